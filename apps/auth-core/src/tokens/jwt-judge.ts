import { ValidateTokenReply } from '@portcullis/contracts';
import {
  PrincipalState,
  Requirements,
  TokenVerifier,
  verdict,
  VerifiedTokenCache,
  VerifyOptions,
} from '@portcullis/jwt';

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
  ) {}

  /** Whether this JWT's signature was verified a moment ago (judging it again is cheap). */
  isRemembered(token: string): boolean {
    return this.verified.has(token);
  }

  judge(token: string, req: Requirements): ValidateTokenReply {
    return verdict(this.verified.verify(this.verifier, token, this.opts), req, this.state);
  }
}
