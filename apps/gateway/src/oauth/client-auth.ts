import { InvalidClient, InvalidRequest } from './oauth-error';

export interface ClientAuth {
  client_id: string;
  client_secret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** RFC 7617 credentials: the scheme, one or more spaces, a token68 (optional whitespace after). */
const BASIC_CREDENTIALS = /^Basic +([A-Za-z0-9+/]+=*) *$/i;

/** Whether the request uses the Basic scheme at all, well-formed or not: it then chose client_secret_basic. */
export const usesBasic = (authorization: string | undefined): boolean => /^Basic(\s|$)/i.test(authorization ?? '');

/** Whether the request authenticates with client_secret_post: a client_secret in the body and no Basic header. */
export const usesPost = (authorization: string | undefined, body: unknown): boolean =>
  !usesBasic(authorization) &&
  typeof (body as { client_secret?: unknown } | undefined)?.client_secret === 'string' &&
  (body as { client_secret: string }).client_secret !== '';

/** RFC 6749 Appendix B: a form-urlencoded value (`+` is a space), or null when it is not one. */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * RFC 6749 §2.3.1: credentials in a Basic header (form-urlencoded inside) or in the body —
 * exactly one of the two (§2.3: "MUST NOT use more than one"). A Basic header counts as the Basic
 * method even when it cannot be read: read as absent, a client could present a second method.
 */
export function readClientAuth(
  authorization: string | undefined,
  body: { client_id?: string; client_secret?: string },
): ClientAuth {
  if (usesBasic(authorization)) {
    if (body.client_secret) throw new InvalidRequest('Use one client authentication method, not two');
    const encoded = BASIC_CREDENTIALS.exec(authorization!)?.[1];
    const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const client_id = colon > 0 ? formDecode(decoded.slice(0, colon)) : null;
    const client_secret = colon > 0 ? formDecode(decoded.slice(colon + 1)) : null;
    if (!client_id || !client_secret) throw new InvalidClient('Malformed Basic credentials');
    if (body.client_id && body.client_id !== client_id)
      throw new InvalidRequest('client_id does not match the Basic credentials');
    return { client_id, client_secret, method: 'client_secret_basic' };
  }
  if (body.client_id && body.client_secret)
    return { client_id: body.client_id, client_secret: body.client_secret, method: 'client_secret_post' };
  throw new InvalidClient('Client authentication is required');
}

/**
 * For grants where client authentication is optional (password, refresh_token). A client that
 * presents a secret (Basic, or client_secret in the body) must present the right one
 * (RFC 6749 §3.2.1): it is authenticated. A bare client_id is the `none` method of a public
 * client, as discovery advertises: the token is attributed to that client, as the native login's
 * `clientId` is, and a refresh token is only accepted back for the client it was issued to.
 */
export function readOptionalClientAuth(
  authorization: string | undefined,
  body: { client_id?: string; client_secret?: string },
): { client_id: string; client_secret?: string } | undefined {
  if (usesBasic(authorization) || body.client_secret !== undefined) return readClientAuth(authorization, body);
  return body.client_id !== undefined ? { client_id: body.client_id } : undefined;
}
