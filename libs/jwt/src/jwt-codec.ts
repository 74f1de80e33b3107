import { createPrivateKey, createPublicKey, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

/**
 * Compact JWS signing and verification on node:crypto KeyObjects. The hot path of Portcullis is
 * verifying ES256 signatures; node:crypto with a KeyObject is about 2.5x faster here than
 * WebCrypto (jose's path), so this is the one place that does it, shared by auth-core and the
 * SDK so both apply exactly the same rules.
 */
export const ALLOWED_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export const MAX_TOKEN_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function isAllowedAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
}

export function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
  alg: SigningAlgorithm,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature =
    alg === 'ES256'
      ? cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign(null, Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

export function verifySignature(alg: SigningAlgorithm, key: KeyObject, input: string, signature: Buffer): boolean {
  if (alg === 'ES256') {
    if (signature.length !== 64) return false;
    return cryptoVerify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature);
  }
  return cryptoVerify(null, Buffer.from(input), key, signature);
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
  /** The signature as it came, base64url: cheaper than the bytes to hand to a worker thread. */
  signatureSegment: string;
}

function parseJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Splits and decodes a compact JWS without trusting anything in it; null when malformed.
 * `knownHeader`: the decoded header of a header segment already seen to be well-formed (the
 * verifier's memo) — used, not decoded again, when this token's header segment is that one.
 */
export function decodeCompact(
  token: string,
  knownHeader?: { segment: string; header: Record<string, unknown> },
): DecodedJws | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0 && B64URL.test(p))) return null;
  const header = knownHeader?.segment === parts[0] ? knownHeader.header : parseJsonObject(parts[0]);
  const payload = parseJsonObject(parts[1]);
  if (!header || !payload) return null;
  return {
    header,
    payload,
    // A slice of the token rather than a new string: the signature check only reads it.
    signingInput: token.slice(0, parts[0].length + 1 + parts[1].length),
    signature: Buffer.from(parts[2], 'base64url'),
    signatureSegment: parts[2],
  };
}

export function publicKeyFromJwk(jwk: Record<string, unknown>): KeyObject {
  return createPublicKey({ key: jwk as never, format: 'jwk' });
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}
