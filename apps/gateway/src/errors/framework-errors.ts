import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { envelope } from '@portcullis/contracts';
import { NATIVE_API, NO_STORE } from '../core/cache-policy';

/**
 * Fastify refuses some URLs in its router, before any Nest filter runs: a malformed percent
 * encoding (FST_ERR_BAD_URL) or a path parameter over the router's length limit
 * (FST_ERR_MAX_PARAM_LENGTH, 414). Those answer in the SPEC §4 envelope (RFC 6749 form on /oauth)
 * like every other bad input, instead of Fastify's own body.
 */
export function frameworkErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'The request URL is malformed';
  void reply.header('X-Request-Id', req.id);
  // The router answers before the onRequest hook that sets these on every other native reply.
  if (req.url.startsWith(NATIVE_API)) void reply.headers(NO_STORE);
  if (req.url.startsWith('/oauth/')) {
    void reply.status(400).send({ error: 'invalid_request', error_description: message });
    return;
  }
  void reply.status(400).send(envelope('BAD_REQUEST', message, [{ field: '(path)', errors: [message] }]));
}
