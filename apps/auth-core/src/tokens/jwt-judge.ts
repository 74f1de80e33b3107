import { ValidateTokenReply } from '@portcullis/contracts';
import {
  PrincipalState,
  refusal,
  Requirements,
  TokenVerifier,
  verdict,
  VerifiedTokenCache,
  VerifyOptions,
} from '@portcullis/jwt';

/** The refusal while the revocation state cannot vouch for a token (see RevocationCacheService.isCurrent). */
export const NOT_CURRENT = refusal(
  'UNAVAILABLE',
  'Revocations are being caught up after a NATS reconnect: validation resumes in a moment',
);

/**
 * SPEC §3 for a JWT, from memory alone: signature (skipped for a token verified a moment ago) and
 * claims, then revocation, owner state and the caller's requirements. One per thread that
 * validates: the main thread's TokenValidationService and each validate worker.
 */
export class JwtJudge {
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly state: PrincipalState,
    private readonly opts: Omit<VerifyOptions, 'now'>,
    private readonly current: () => boolean,
  ) {}

  /** Whether this JWT's signature was verified a moment ago (judging it again is cheap). */
  isRemembered(token: string): boolean {
    return this.verified.has(token);
  }

  judge(token: string, req: Requirements): ValidateTokenReply {
    if (!this.current()) return NOT_CURRENT;
    return verdict(this.verified.verify(this.verifier, token, this.opts), req, this.state);
  }
}
