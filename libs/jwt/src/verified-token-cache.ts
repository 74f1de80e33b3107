import { AccessTokenClaims } from '@portcullis/contracts';
import { TokenVerifier, VerifyOptions, VerifyResult } from './token-verifier';

interface VerifiedToken {
  claims: AccessTokenClaims;
  kid: string;
}

/** The verifier's time rules (TokenVerifier), applied again to a remembered token. */
function timeFailure(c: AccessTokenClaims, now: number, skew: number): 'EXPIRED' | 'NOT_YET_VALID' | null {
  if (c.exp + skew <= now) return 'EXPIRED';
  if ((c.nbf !== undefined && c.nbf - skew > now) || c.iat - skew > now) return 'NOT_YET_VALID';
  return null;
}

/**
 * Tokens whose signature and static claims (alg, kid, iss, aud, shape) were verified, so a token
 * presented again (the usual case: a service validating its caller's token on every request)
 * skips the signature verification, which is most of the cost of a validation. Only the signature
 * check is skipped: time is judged again on every hit, and an entry whose key left the key ring or
 * whose `exp` passed is dropped, never served. Revocation, owner state and requirements are the
 * caller's to judge after, every time. Small on purpose (oldest out first): it holds the hot
 * tokens; a larger working set is verified each time.
 */
export class VerifiedTokenCache {
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries = 2048) {}

  verify(verifier: TokenVerifier, token: string, opts: VerifyOptions): VerifyResult {
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    const hit = this.recall(verifier, token, now, opts.clockSkew);
    if (hit) return hit;
    const result = verifier.verify(token, opts);
    if (result.ok) this.remember(token, result.claims, result.kid);
    return result;
  }

  private recall(verifier: TokenVerifier, token: string, now: number, skew: number): VerifyResult | null {
    const hit = this.verified.get(token);
    if (!hit) return null;
    const late = timeFailure(hit.claims, now, skew);
    if (late === 'EXPIRED' || !verifier.hasKid(hit.kid)) {
      this.verified.delete(token);
      return null;
    }
    return late ? { ok: false, reason: late } : { ok: true, claims: hit.claims, kid: hit.kid };
  }

  private remember(token: string, claims: AccessTokenClaims, kid: string): void {
    if (this.verified.size >= this.maxEntries) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { claims, kid });
  }

  has(token: string): boolean {
    return this.verified.has(token);
  }

  get size(): number {
    return this.verified.size;
  }
}
