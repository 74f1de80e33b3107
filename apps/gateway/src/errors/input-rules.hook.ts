import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { badRequest, ErrorDetail, envelope } from '@portcullis/contracts';
import { isEmpty } from './validation.pipe';

const FORM = /^application\/x-www-form-urlencoded\b/i;
const JSON_TYPE = /^application\/json\b/i;

/** What the native API answers a body it does not read as JSON (also the gateway's 415s, made 400s). */
export const SEND_JSON: ErrorDetail[] = [{ field: 'content-type', errors: ['send the body as application/json'] }];

/**
 * Rules on request bodies and query strings, checked in a Fastify hook before Nest sees the request:
 *
 * - A route that takes no body refuses one, the way the routes with a body DTO refuse unknown
 *   fields: `POST /keys/rotate {"alg":"HS256"}` must not rotate an ES256 key and answer 201 as if
 *   the field had been heard. Routes that declare `@Body()` are left to the validation pipe.
 * - Likewise a native API route that takes no query refuses one: `POST /tokens/cleanup?before=…`
 *   must not purge everything as if the filter had been applied. Routes that declare `@Query()`
 *   are left to the validation pipe; `/oauth/*` ignores unknown parameters (RFC 6749 §3.1).
 * - Form bodies are for the OAuth endpoints only (RFC 6749 asks for them there). Anywhere else a
 *   browser on another site could post one without a CORS preflight — a login form aimed at
 *   `/api/v1/auth/login` would sign the victim's browser in as the attacker — so the native API
 *   takes JSON.
 *
 * A hook, not a Nest interceptor: a global interceptor puts every request, the hot validate route
 * included, through Nest's rxjs pipeline, which cost about a third of the gateway's throughput
 * (bench/NOTES.md, session 7). Requests with neither a body nor a query string pass with two
 * comparisons.
 */
export function installInputRules(app: NestFastifyApplication): void {
  const { known, takeBody, takeQuery } = routeTable(app);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preHandler', (req, reply, done) => {
      // An empty text/plain body (Fastify's text parser gives '') is no body, as an empty JSON one is.
      if (req.body === '') req.body = undefined;
      const body: unknown = req.body;
      const hasBody = body !== undefined && body !== null;
      if (!hasBody && !req.url.includes('?')) return done();
      const route = `${req.method} ${req.routeOptions.url ?? ''}`;
      if (!known.has(route)) return done();
      const details =
        (hasBody ? bodyProblems(req, body, takeBody.has(route)) : null) ??
        (!takeQuery.has(route) && req.url.startsWith('/api/') ? unknownFields(Object.keys(req.query ?? {})) : null);
      if (!details) return done();
      const err = badRequest(details);
      void reply.status(400).send(envelope(err.code, err.message, err.details));
    });
}

function bodyProblems(req: FastifyRequest, body: unknown, routeTakesBody: boolean): ErrorDetail[] | null {
  const type = String(req.headers['content-type'] ?? '');
  if (FORM.test(type) && !req.url.startsWith('/oauth/'))
    return [{ field: 'content-type', errors: ['form bodies are accepted on /oauth/* only; send application/json'] }];
  // A text/plain body (fetch's default for a string) is no JSON object: naming its content type
  // tells a client that sent JSON what is wrong, where the missing fields it listed did not.
  if (!JSON_TYPE.test(type) && req.url.startsWith('/api/')) return SEND_JSON;
  if (routeTakesBody || isEmptyObject(body)) return null;
  return typeof body === 'object' && !Array.isArray(body)
    ? unknownFields(Object.keys(body as object))
    : [{ field: 'body', errors: ['this route takes no body'] }];
}

const unknownFields = (names: string[]): ErrorDetail[] | null =>
  names.length ? names.map((field) => ({ field, errors: [`property ${field} should not exist`] })) : null;

/** Every Nest route as `METHOD /path` (Fastify's notation), and those that declare `@Body()` or `@Query()`. */
function routeTable(app: NestFastifyApplication): {
  known: Set<string>;
  takeBody: Set<string>;
  takeQuery: Set<string>;
} {
  const known = new Set<string>();
  const takeBody = new Set<string>();
  const takeQuery = new Set<string>();
  for (const mod of app.get(ModulesContainer).values())
    for (const { metatype } of mod.controllers.values()) {
      if (!metatype) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
      for (const name of Object.getOwnPropertyNames(metatype.prototype)) {
        const handler = (metatype.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, name) ?? {}) as object;
        const declares = (type: RouteParamtypes) => Object.keys(args).some((k) => k.startsWith(`${type}:`));
        for (const p of [path].flat()) {
          const route = `${RequestMethod[method]} ${`/${base}/${p}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1')}`;
          known.add(route);
          if (declares(RouteParamtypes.BODY)) takeBody.add(route);
          if (declares(RouteParamtypes.QUERY)) takeQuery.add(route);
        }
      }
    }
  return { known, takeBody, takeQuery };
}

const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && !Array.isArray(v) && isEmpty(v);
