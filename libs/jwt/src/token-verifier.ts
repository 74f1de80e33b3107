import { KeyObject } from 'node:crypto';
import { AccessTokenClaims, TOKEN_TYPES } from '@portcullis/contracts';
import { DecodedJws, decodeCompact, isAllowedAlgorithm, SigningAlgorithm, verifySignature } from './jwt-codec';

export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
}

export interface VerifyOptions {
  issuer: string;
  audience: string;
  /** Bounded clock skew, seconds. */
  clockSkew: number;
  /** Current time, epoch seconds (injectable for tests). */
  now?: number;
}

export type VerifyFailure =
  | 'MALFORMED'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'FORBIDDEN_HEADER'
  | 'WRONG_TYPE'
  | 'UNKNOWN_KID'
  | 'BAD_SIGNATURE'
  | 'BAD_CLAIMS'
  | 'WRONG_ISSUER'
  | 'WRONG_AUDIENCE'
  | 'EXPIRED'
  | 'NOT_YET_VALID';

export type VerifyResult = { ok: true; claims: AccessTokenClaims; kid: string } | { ok: false; reason: VerifyFailure };

/** Headers that would let the token choose its own verification key: always refused. */
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];
const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * RFC 9068 §4: a JWT access token says so in `typ`, and a validator refuses any other value, so a
 * JWT of another kind signed by the same key can never pass as an access token. Media types
 * compare case-insensitively, with or without `application/` (RFC 7515 §4.1.9).
 */
const isAccessTokenType = (typ: unknown): boolean => typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function claimsShapeOk(p: Record<string, unknown>): boolean {
  return (
    typeof p.sub === 'string' &&
    typeof p.jti === 'string' &&
    typeof p.cid === 'string' &&
    typeof p.rcid === 'string' &&
    typeof p.typ === 'string' &&
    (TOKEN_TYPES as readonly string[]).includes(p.typ) &&
    isNum(p.exp) &&
    isNum(p.iat) &&
    (p.nbf === undefined || isNum(p.nbf)) &&
    isStrArray(p.roles) &&
    isStrArray(p.tenants) &&
    (p.perms === undefined || isStrArray(p.perms))
  );
}

/**
 * Verifies a Portcullis access token: allow-listed algorithm bound to a known `kid`, signature,
 * then `iss`/`aud`/`exp`/`nbf`/`iat` with bounded skew. Revocation and principal state are the
 * caller's business (they differ between auth-core and an SDK in local mode).
 */
/** A token whose header passed and whose key is known: what is left is its signature and claims. */
export interface PreparedToken {
  jws: DecodedJws;
  key: VerificationKey;
}

export type PrepareResult = ({ ok: true } & PreparedToken) | { ok: false; reason: VerifyFailure };

/** Header segments remembered as accepted (see `prepare`); a handful: one per signing key in use. */
const ACCEPTED_HEADERS_MAX = 8;

interface AcceptedHeader {
  segment: string;
  header: Record<string, unknown>;
  key: VerificationKey;
}

export class TokenVerifier {
  private readonly keys = new Map<string, VerificationKey>();
  /**
   * Every token a key signs carries the same header segment, and what the header checks decide
   * depends only on those bytes and the key ring: a segment accepted once is not decoded and judged
   * again until the key ring changes. Only accepted segments are kept, so a token cannot make the
   * verifier remember anything it would not accept anyway.
   */
  private readonly acceptedHeaders = new Map<string, AcceptedHeader>();
  private readonly keyListeners: Array<(keys: VerificationKey[]) => void> = [];

  setKeys(keys: VerificationKey[]): void {
    this.keys.clear();
    this.acceptedHeaders.clear();
    for (const k of keys) this.keys.set(k.kid, k);
    for (const listener of this.keyListeners) listener(keys);
  }

  /** Called with the whole key ring on every change (another thread's copy follows it this way). */
  onKeysChanged(listener: (keys: VerificationKey[]) => void): void {
    this.keyListeners.push(listener);
  }

  hasKid(kid: string): boolean {
    return this.keys.has(kid);
  }

  keyFor(kid: string): VerificationKey | undefined {
    return this.keys.get(kid);
  }

  listKeys(): VerificationKey[] {
    return [...this.keys.values()];
  }

  verify(token: string, opts: VerifyOptions): VerifyResult {
    const p = this.prepare(token);
    if (!p.ok) return p;
    if (!verifySignature(p.key.alg, p.key.key, p.jws.signingInput, p.jws.signature))
      return { ok: false, reason: 'BAD_SIGNATURE' };
    return this.conclude(p, opts);
  }

  /**
   * verify(), except that a token past its expiry still passes: whether Portcullis issued it (its
   * key, signature, issuer and audience), for ending the session of an access token that has expired
   * (logout, as Keycloak's accepts an expired id_token_hint). Never for accepting a token.
   */
  verifyIssued(token: string, opts: VerifyOptions): VerifyResult {
    const p = this.prepare(token);
    if (!p.ok) return p;
    if (!verifySignature(p.key.alg, p.key.key, p.jws.signingInput, p.jws.signature))
      return { ok: false, reason: 'BAD_SIGNATURE' };
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    const exp = p.jws.payload.exp;
    // Judged as at its last valid second: every other check stands as it would have then.
    return this.conclude(p, { ...opts, now: isNum(exp) ? Math.min(now, exp - 1) : now });
  }

  /** Everything before the signature: shape, header, allow-listed algorithm bound to a known key. */
  prepare(token: string): PrepareResult {
    const dot = typeof token === 'string' ? token.indexOf('.') : -1;
    const known = dot > 0 ? this.acceptedHeaders.get(token.slice(0, dot)) : undefined;
    const jws = decodeCompact(token, known);
    if (!jws) return { ok: false, reason: 'MALFORMED' };
    if (known) return { ok: true, jws, key: known.key };
    const { header } = jws;
    if (!isAllowedAlgorithm(header.alg)) return { ok: false, reason: 'ALGORITHM_NOT_ALLOWED' };
    if (FORBIDDEN_HEADERS.some((h) => h in header)) return { ok: false, reason: 'FORBIDDEN_HEADER' };
    if (!isAccessTokenType(header.typ)) return { ok: false, reason: 'WRONG_TYPE' };
    if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) return { ok: false, reason: 'UNKNOWN_KID' };
    const key = this.keys.get(header.kid);
    if (!key) return { ok: false, reason: 'UNKNOWN_KID' };
    // The key decides the algorithm, never the token: an ES256 key only verifies ES256.
    if (key.alg !== header.alg) return { ok: false, reason: 'ALGORITHM_NOT_ALLOWED' };
    this.acceptHeader({ segment: token.slice(0, dot), header, key });
    return { ok: true, jws, key };
  }

  private acceptHeader(accepted: AcceptedHeader): void {
    if (this.acceptedHeaders.size >= ACCEPTED_HEADERS_MAX)
      this.acceptedHeaders.delete(this.acceptedHeaders.keys().next().value as string);
    this.acceptedHeaders.set(accepted.segment, accepted);
  }

  /** Everything after a good signature: claim shape, issuer, audience, time with bounded skew. */
  conclude({ jws, key }: PreparedToken, opts: VerifyOptions): VerifyResult {
    const { payload } = jws;
    if (!claimsShapeOk(payload)) return { ok: false, reason: 'BAD_CLAIMS' };
    if (payload.iss !== opts.issuer) return { ok: false, reason: 'WRONG_ISSUER' };
    const aud = payload.aud;
    const audOk = aud === opts.audience || (isStrArray(aud) && aud.includes(opts.audience));
    if (!audOk) return { ok: false, reason: 'WRONG_AUDIENCE' };
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    if ((payload.exp as number) + opts.clockSkew <= now) return { ok: false, reason: 'EXPIRED' };
    if (payload.nbf !== undefined && (payload.nbf as number) - opts.clockSkew > now)
      return { ok: false, reason: 'NOT_YET_VALID' };
    if ((payload.iat as number) - opts.clockSkew > now) return { ok: false, reason: 'NOT_YET_VALID' };
    return { ok: true, claims: payload as unknown as AccessTokenClaims, kid: key.kid };
  }
}

export const VERIFY_FAILURE_MESSAGES: Record<VerifyFailure, string> = {
  MALFORMED: 'Token is malformed',
  ALGORITHM_NOT_ALLOWED: 'Token algorithm is not allowed',
  FORBIDDEN_HEADER: 'Token header is not allowed',
  WRONG_TYPE: 'Token is not an access token (typ must be at+jwt)',
  UNKNOWN_KID: 'Token signing key is unknown',
  BAD_SIGNATURE: 'Token signature is invalid',
  BAD_CLAIMS: 'Token claims are invalid',
  WRONG_ISSUER: 'Token issuer is not accepted',
  WRONG_AUDIENCE: 'Token audience is not accepted',
  EXPIRED: 'Token has expired',
  NOT_YET_VALID: 'Token is not yet valid',
};
