import { AccessTokenClaims, ValidateTokenReply, WireError } from '@portcullis/contracts';
import {
  DISABLED_MESSAGE,
  missingRequirement,
  ownerDisabled,
  PrincipalKind,
  Requirements,
  REVOKED_MESSAGE,
} from './claims-policy';
import { VERIFY_FAILURE_MESSAGES, VerifyResult } from './token-verifier';

/** What a verdict needs to know beyond the token: auth-core's cache and local mode's state both are one. */
export interface PrincipalState {
  isRevoked(tid: string): boolean;
  isDisabled(kind: PrincipalKind, id: string): boolean;
}

export const refusal = (code: WireError['code'], message: string): ValidateTokenReply => ({
  valid: false,
  error: { code, message, details: null },
});

/** SPEC §3 once the claims are known: revocation, owner state, then the caller's requirements. */
export function judgeClaims(claims: AccessTokenClaims, req: Requirements, state: PrincipalState): ValidateTokenReply {
  if (state.isRevoked(claims.jti)) return refusal('UNAUTHENTICATED', REVOKED_MESSAGE);
  if (ownerDisabled(claims, (kind, id) => state.isDisabled(kind, id)))
    return refusal('UNAUTHENTICATED', DISABLED_MESSAGE);
  const missing = missingRequirement(claims, req);
  if (missing) return refusal('FORBIDDEN', missing);
  return { valid: true, claims };
}

/** The reply for a JWT: the verifier's refusal, or the judgement of its claims. */
export function verdict(result: VerifyResult, req: Requirements, state: PrincipalState): ValidateTokenReply {
  if (!result.ok) return refusal('UNAUTHENTICATED', VERIFY_FAILURE_MESSAGES[result.reason]);
  return judgeClaims(result.claims, req, state);
}
