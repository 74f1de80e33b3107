import { Inject, Injectable } from '@nestjs/common';
import { PAT_PREFIX, ValidateTokenReply } from '@portcullis/contracts';
import { PatResolverService } from '../credentials/pat-resolver.service';
import { judgeClaims, refusal, Requirements, verdict, VerifiedTokenCache } from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { countValidations } from '../metrics/metrics';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from './revocation-cache.service';
import { outcomeOf } from './validation-outcome';

export type { Requirements };

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

  /** Whether this JWT's signature was verified a moment ago (validating it again is cheap). */
  isRemembered(token: string): boolean {
    return this.verified.has(token);
  }

  private countOutcome(reply: ValidateTokenReply): void {
    countValidations(outcomeOf(reply));
  }

  private async decidePat(token: string, req: Requirements, clientIp?: string): Promise<ValidateTokenReply> {
    const result = await this.pats.resolve(token, clientIp);
    if (!result.ok) return refusal(result.code, result.message);
    return judgeClaims(result.claims, req, this.revocations);
  }

  /** Judged from memory at once: signature (unless remembered) and claims, revocation, owner state. */
  private decide(token: string, req: Requirements): ValidateTokenReply {
    const opts = { issuer: this.config.ISSUER, audience: this.config.AUDIENCE, clockSkew: this.config.CLOCK_SKEW };
    return verdict(this.verified.verify(this.keys.verifier, token, opts), req, this.revocations);
  }
}
