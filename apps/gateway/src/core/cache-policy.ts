/**
 * Every native API reply is for its caller alone, and many carry a secret or a token (client
 * secrets, API keys, PATs, access and refresh tokens): no shared or browser cache may keep one
 * (RFC 9111 §5.2.2.5; RFC 6749 §5.1 asks the same of /oauth/token). `Pragma` is for HTTP/1.0
 * caches. The discovery documents and the JWKS stay cacheable: they are public and alike for all.
 */
export const NATIVE_API = '/api/';
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
