import { Inject, Injectable } from '@nestjs/common';
import { PAT_PREFIX, PortcullisError, ValidateTokenReply } from '@portcullis/contracts';
import { PatResolverService } from '../credentials/pat-resolver.service';
import { judgeClaims, refusal, Requirements } from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { countValidations } from '../metrics/metrics';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from './revocation-cache.service';
import { JwtJudge, NOT_CURRENT } from './jwt-judge';
import { outcomeOf } from './validation-outcome';

export type { Requirements };

/**
 * For a use case that acts on a token (an actor's, logout, me, revoke, introspect): a state that
 * cannot vouch for any token right now is the caller's 503 to retry, not a verdict on this token.
 */
export function unlessUnavailable(reply: ValidateTokenReply): ValidateTokenReply {
  if (!reply.valid && reply.error.code === 'UNAVAILABLE') throw new PortcullisError('UNAVAILABLE', reply.error.message);
  return reply;
}

/** SPEC §3 validation, entirely in memory: signature and claims, revocation, principal state, requirements. */
@Injectable()
export class TokenValidationService {
  private readonly jwt: JwtJudge;

  constructor(
    @Inject(AUTH_CORE_CONFIG) config: AuthCoreConfig,
    keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly pats: PatResolverService,
  ) {
    this.jwt = new JwtJudge(
      keys.verifier,
      revocations,
      { issuer: config.ISSUER, audience: config.AUDIENCE, clockSkew: config.CLOCK_SKEW },
      () => revocations.isCurrent(),
    );
  }

  /** JWTs are judged from memory alone; a PAT needs its record (cached briefly). */
  async validate(token: string, req: Requirements = {}, clientIp?: string): Promise<ValidateTokenReply> {
    const reply = token.startsWith(PAT_PREFIX)
      ? await this.decidePat(token, req, clientIp)
      : this.jwt.judge(token, req);
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
    const reply = this.jwt.judge(token, req);
    this.countOutcome(reply);
    return reply;
  }

  /** Whether this JWT's signature was verified a moment ago (validating it again is cheap). */
  isRemembered(token: string): boolean {
    return this.jwt.isRemembered(token);
  }

  private countOutcome(reply: ValidateTokenReply): void {
    countValidations(outcomeOf(reply));
  }

  private async decidePat(token: string, req: Requirements, clientIp?: string): Promise<ValidateTokenReply> {
    if (!this.revocations.isCurrent()) return NOT_CURRENT;
    const result = await this.pats.resolve(token);
    if (!result.ok) return refusal(result.code, result.message);
    const reply = judgeClaims(result.claims, req, this.revocations);
    // A PAT deleted, or of a disabled owner, was refused, not used: its lastUsedAt and known
    // addresses stay as they were. One that lacks what was required was still its owner's to use.
    if (reply.valid || reply.error.code !== 'UNAUTHENTICATED') this.pats.noteUse(result.claims, clientIp);
    return reply;
  }
}
