import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, envelope } from '@portcullis/contracts';

/**
 * `Bearer <token>`. One space: the onRequest hook has already reduced the `1*SP` RFC 6750 §2.1
 * allows to one (normalisedAuthorization), for this and for passport alike.
 */
const BEARER = /^Bearer (\S+)$/i;

/** The bearer token of an Authorization header value, if it holds one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization ? BEARER.exec(authorization)?.[1] : undefined;
}

/**
 * The header as every reader here expects it: one space after the scheme, none after the token.
 * passport-http-bearer splits on a single space, and `Bearer  <token>` is legal (1*SP); normalised
 * once, before any route, rather than tolerated by each reader. Unchanged in the usual case.
 */
export function normalisedAuthorization(authorization: string): string {
  return authorization.includes('  ') ? authorization.replace(/^(\S+) +/, '$1 ').trimEnd() : authorization;
}

/**
 * How many Authorization fields the request carried. Node keeps the first of several and drops the
 * rest; a proxy in front may read the last. The field is a singleton (RFC 9110 §5.3), so more than
 * one is refused rather than guessed at.
 */
export function authorizationFields(rawHeaders: string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i].length === 13 && /^authorization$/i.test(rawHeaders[i])) n++;
  return n;
}

/** The answer to a request with several Authorization fields: 400, as an OAuth error on /oauth/*. */
export function refuseDuplicateAuthorization(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message = 'send one Authorization header, not several';
  if (req.url.startsWith('/oauth/'))
    return reply
      .status(400)
      .headers({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .send({ error: 'invalid_request', error_description: `Malformed request: ${message}` });
  const err = badRequest([{ field: 'authorization', errors: [message] }]);
  return reply.status(400).send(envelope(err.code, err.message, err.details));
}
