import { EnvCheck } from '@portcullis/contracts';

/**
 * What is wrong with an ISSUER, or null. It is every token's `iss` and the base of the endpoints
 * discovery advertises, so it must be a URL a client can reach and compare: http(s), a valid host
 * and port, and — as RFC 8414 §2 and OpenID Connect Discovery require — no query or fragment.
 */
export function issuerProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'ISSUER must be an http(s) URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'ISSUER must be an http(s) URL';
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !/^https?:\/\/\S+$/.test(value))
    return 'ISSUER must be an http(s) URL';
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    return 'ISSUER must have no query or fragment (RFC 8414)';
  if (url.username || url.password) return 'ISSUER must not carry a user or password';
  return null;
}

export const Issuer = () => EnvCheck('issuer', issuerProblem);
