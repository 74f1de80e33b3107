import type { FastifyRequest } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

type RouterView = Pick<FastifyRequest, 'is404' | 'method' | 'url' | 'server'>;

/**
 * For a request that no route matched: the methods its path does answer to, or null when no route
 * has that path at all. A caller who used the wrong method is told so (405 with `Allow`, RFC 9110
 * §15.5.6) instead of being told the resource does not exist.
 */
export function allowedMethods(req: RouterView): string[] | null {
  if (!req.is404) return null;
  const url = req.url.split('?', 1)[0];
  // findRoute matches an empty parameter (`/tokens/`, `/users//tokens`) that routing does not: no
  // method would be answered there, so it is no route at all (404), not a wrong method.
  if (/\/\/|.\/$/.test(url)) return null;
  // Typed as always found; Fastify answers null when no route matches.
  const allowed = METHODS.filter((method) => (req.server.findRoute({ method, url }) as object | null) !== null);
  // The method asked is among them yet routing found nothing: the two disagree, and "use GET" to a
  // GET would be no answer.
  return allowed.length && !allowed.includes(req.method as (typeof METHODS)[number]) ? allowed : null;
}

/** The `Allow` header and the message both error filters answer a wrong method with, or null. */
export function methodNotAllowed(req: RouterView): { allow: string; message: string } | null {
  const allowed = allowedMethods(req);
  if (!allowed) return null;
  const allow = allowed.join(', ');
  return { allow, message: `${req.method} is not allowed here; use ${allow}` };
}
