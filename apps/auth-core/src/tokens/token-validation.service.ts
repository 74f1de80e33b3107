import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenClaims, PAT_PREFIX, ValidateTokenReply, WireError } from '@portcullis/contracts';
import { PatResolverService } from '../credentials/pat-resolver.service';
import {
  DISABLED_MESSAGE,
  missingRequirement,
  ownerDisabled,
  Requirements,
  REVOKED_MESSAGE,
  VERIFY_FAILURE_MESSAGES,
  VerifiedTokenCache,
} from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { childrenBy, validationOutcomes } from '../metrics/metrics';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from './revocation-cache.service';

export type { Requirements };

const fail = (code: WireError['code'], message: string): ValidateTokenReply => ({
  valid: false,
  error: { code, message, details: null },
});

/** SPEC §3 validation, entirely in memory: signature and claims, revocation, principal state, requirements. */
@Injectable()
export class TokenValidationService {
  private readonly verified = new VerifiedTokenCache();

  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly pats: PatResolverService,
  ) {}

  /** JWTs are judged from memory alone; a PAT needs its record (cached briefly). */
  async validate(token: string, req: Requirements = {}, clientIp?: string): Promise<ValidateTokenReply> {
    const reply = token.startsWith(PAT_PREFIX) ? await this.decidePat(token, req, clientIp) : this.decide(token, req);
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
    this.countOutcome(reply);
    return reply;
  }

  private readonly outcomeCounter = childrenBy((outcome) => validationOutcomes.labels({ outcome }));

  private countOutcome(reply: ValidateTokenReply): void {
    this.outcomeCounter(reply.valid ? 'valid' : this.outcomeOf(reply.error.message)).inc();
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
    if (!result.ok) return fail(result.code, result.message);
    return this.judge(result.claims, req);
  }

  private decide(token: string, req: Requirements): ValidateTokenReply {
    const result = this.verified.verify(this.keys.verifier, token, {
      issuer: this.config.ISSUER,
      audience: this.config.AUDIENCE,
      clockSkew: this.config.CLOCK_SKEW,
      now: Math.floor(Date.now() / 1000),
    });
    if (!result.ok) return fail('UNAUTHENTICATED', VERIFY_FAILURE_MESSAGES[result.reason]);
    return this.judge(result.claims, req);
  }

  /** What every kind of token must pass once its claims are known. */
  private judge(claims: AccessTokenClaims, req: Requirements): ValidateTokenReply {
    if (this.revocations.isRevoked(claims.jti)) return fail('UNAUTHENTICATED', REVOKED_MESSAGE);
    if (ownerDisabled(claims, (kind, id) => this.revocations.isDisabled(kind, id)))
      return fail('UNAUTHENTICATED', DISABLED_MESSAGE);
    const missing = missingRequirement(claims, req);
    if (missing) return fail('FORBIDDEN', missing);
    return { valid: true, claims };
  }
}
