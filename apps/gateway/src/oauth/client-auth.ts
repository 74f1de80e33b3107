import { InvalidClient, InvalidRequest } from './oauth-error';

export interface ClientAuth {
  client_id: string;
  client_secret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/**
 * RFC 6749 §2.3.1: credentials in a Basic header (form-urlencoded inside) or in the body —
 * exactly one of the two.
 */
export function readClientAuth(
  authorization: string | undefined,
  body: { client_id?: string; client_secret?: string },
): ClientAuth {
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '')?.[1];
  if (basic) {
    if (body.client_secret) throw new InvalidRequest('Use one client authentication method, not two');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidClient('Malformed Basic credentials');
    try {
      const client_id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      const client_secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      if (!client_id || !client_secret) throw new Error('empty');
      if (body.client_id && body.client_id !== client_id)
        throw new InvalidRequest('client_id does not match the Basic credentials');
      return { client_id, client_secret, method: 'client_secret_basic' };
    } catch (err) {
      if (err instanceof InvalidRequest) throw err;
      throw new InvalidClient('Malformed Basic credentials');
    }
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
  if (/^Basic /i.test(authorization ?? '') || body.client_secret !== undefined)
    return readClientAuth(authorization, body);
  return body.client_id !== undefined ? { client_id: body.client_id } : undefined;
}
