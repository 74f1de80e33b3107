import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PAT_PREFIX, ValidateTokenReply } from '@portcullis/contracts';
import { PatResolverService } from '../credentials/pat-resolver.service';
import {
  DISABLED_MESSAGE,
  judgeClaims,
  refusal,
  Requirements,
  REVOKED_MESSAGE,
  SignaturePool,
  VERIFY_FAILURE_MESSAGES,
  verdict,
  VerifiedTokenCache,
} from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { childrenBy, validationOutcomes } from '../metrics/metrics';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from './revocation-cache.service';

export type { Requirements };

/** SPEC §3 validation, entirely in memory: signature and claims, revocation, principal state, requirements. */
@Injectable()
export class TokenValidationService implements OnApplicationShutdown {
  private readonly verified = new VerifiedTokenCache();
  /** Signatures checked on worker threads (VERIFY_WORKERS); absent: inline. */
  private readonly pool?: SignaturePool;

  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly pats: PatResolverService,
  ) {
    if (config.VERIFY_WORKERS > 0) {
      this.pool = new SignaturePool(keys.verifier, config.VERIFY_WORKERS);
      new Logger('TokenValidation').log(`token signatures are checked on ${config.VERIFY_WORKERS} worker thread(s)`);
    }
  }

  /** JWTs are judged from memory alone; a PAT needs its record (cached briefly). */
  async validate(token: string, req: Requirements = {}, clientIp?: string): Promise<ValidateTokenReply> {
    const reply = token.startsWith(PAT_PREFIX)
      ? await this.decidePat(token, req, clientIp)
      : await this.decide(token, req);
    this.countOutcome(reply);
    return reply;
  }

  /**
   * validate() without a promise for a JWT, which is judged from memory at once (the NATS validate
   * subscription answers it inside its callback); a PAT still answers through validate().
   */
  validateNow(
    token: string,
    req: Requirements = {},
    clientIp?: string,
  ): ValidateTokenReply | Promise<ValidateTokenReply> {
    if (token.startsWith(PAT_PREFIX)) return this.validate(token, req, clientIp);
    const reply = this.decide(token, req);
    if (!(reply instanceof Promise)) return this.counted(reply);
    return reply.then((r) => this.counted(r));
  }

  /** Whether this JWT's signature was verified a moment ago (validating it again is cheap). */
  isRemembered(token: string): boolean {
    return this.verified.has(token);
  }

  private readonly outcomeCounter = childrenBy((outcome) => validationOutcomes.labels({ outcome }));

  private countOutcome(reply: ValidateTokenReply): void {
    this.outcomeCounter(reply.valid ? 'valid' : this.outcomeOf(reply.error.message)).inc();
  }

  private counted(reply: ValidateTokenReply): ValidateTokenReply {
    this.countOutcome(reply);
    return reply;
  }

  private outcomeOf(message: string): string {
    if (message === REVOKED_MESSAGE) return 'revoked';
    if (message === DISABLED_MESSAGE) return 'disabled';
    if (message === VERIFY_FAILURE_MESSAGES.EXPIRED) return 'expired';
    return message.startsWith('Missing') || message.startsWith('Token is not valid for tenant')
      ? 'forbidden'
      : 'invalid';
  }

  private async decidePat(token: string, req: Requirements, clientIp?: string): Promise<ValidateTokenReply> {
    const result = await this.pats.resolve(token, clientIp);
    if (!result.ok) return refusal(result.code, result.message);
    return judgeClaims(result.claims, req, this.revocations);
  }

  /** At once when the signature is checked inline (or not needed); after the worker's answer otherwise. */
  private decide(token: string, req: Requirements): ValidateTokenReply | Promise<ValidateTokenReply> {
    const opts = { issuer: this.config.ISSUER, audience: this.config.AUDIENCE, clockSkew: this.config.CLOCK_SKEW };
    // Revocation and owner state are read when the verdict is given, after any wait for a worker.
    if (!this.pool) return verdict(this.verified.verify(this.keys.verifier, token, opts), req, this.revocations);
    const result = this.verified.verifyOn(this.pool, this.keys.verifier, token, opts);
    return result instanceof Promise
      ? result.then((r) => verdict(r, req, this.revocations))
      : verdict(result, req, this.revocations);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }
}
