import type { FastifyBodyParser, FastifyInstance } from 'fastify';

/**
 * The native API's and /oauth's JSON parser: Fastify's own (prototype and constructor poisoning
 * refused), except that an empty body is no body. Clients set `Content-Type: application/json` once
 * for a whole session (a requests.Session, an axios instance) and then send a DELETE, or a POST that
 * takes nothing, without a body: each was refused with 400 "Body cannot be empty". A route that
 * needs a body still names its missing fields; a body that is there but is not JSON is still 400.
 */
export function jsonBodyParser(fastify: FastifyInstance): FastifyBodyParser<Buffer> {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (req, body, done) => {
    if (body.length === 0) return done(null, undefined);
    parse(req, body.toString('utf8'), done);
  };
}
