import { CanActivate, ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { envelope, ErrorCode, WireError } from '@portcullis/contracts';
import { AuthClient } from '../auth-client';
import type { ValidationMode } from '../auth-client.options';
import { MODE_KEY, PERMISSIONS_KEY, PRINCIPAL_PROPERTY, ROLES_KEY, TENANT_KEY } from './decorators';

export const AUTH_CLIENT = Symbol('PORTCULLIS_AUTH_CLIENT');
/** RFC 6750 §2.1: `Bearer 1*SP token`, as the gateway takes it. */
const BEARER = /^Bearer +([^\s]+)$/i;

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Express's request is Node's; Fastify's holds Node's as `raw`. */
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
  params?: Record<string, string>;
  [PRINCIPAL_PROPERTY]?: unknown;
}

/**
 * Protects a route with a Portcullis token. Failures answer in the SPEC §4 envelope: 401 for a
 * missing or bad token, 403 for a missing role/permission/tenant, 503 when validation cannot
 * be trusted right now.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_CLIENT) private readonly client: AuthClient,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<HttpRequest>();
    // Node keeps the first of several Authorization fields and drops the rest, while a proxy in
    // front may have judged the last: refused, as the gateway refuses it (RFC 9110 §5.3, a singleton).
    if (authorizationFields(req.rawHeaders ?? req.raw?.rawHeaders ?? []) > 1)
      throw this.error('BAD_REQUEST', 'Send one Authorization header, not several');
    const header = req.headers.authorization;
    const token = BEARER.exec(typeof header === 'string' ? header : '')?.[1];
    if (!token) throw this.error('UNAUTHENTICATED', 'Missing or malformed bearer token');

    const targets = [ctx.getHandler(), ctx.getClass()];
    const roles = this.reflector.getAllAndMerge<string[]>(ROLES_KEY, targets);
    const permissions = this.reflector.getAllAndMerge<string[]>(PERMISSIONS_KEY, targets);
    const tenantSpec = this.reflector.getAllAndOverride<string | ((r: unknown) => string | undefined)>(
      TENANT_KEY,
      targets,
    );
    const mode = this.reflector.getAllAndOverride<ValidationMode>(MODE_KEY, targets);
    const tenant =
      typeof tenantSpec === 'function' ? tenantSpec(req) : tenantSpec ? req.params?.[tenantSpec] : undefined;
    // A tenant requirement that names nothing here (no such route parameter, a resolver answering
    // nothing) is refused, not dropped: dropping it would let every tenant through.
    if (tenantSpec !== undefined && (typeof tenant !== 'string' || tenant === ''))
      throw this.error('FORBIDDEN', 'The tenant this route requires could not be determined');

    const result = await this.client.validate(
      token,
      {
        ...(roles.length ? { roles } : {}),
        ...(permissions.length ? { permissions } : {}),
        ...(tenant !== undefined ? { tenant } : {}),
      },
      mode,
    );
    if (!result.valid) throw this.error(refusalCode(result.error), result.error.message);
    req[PRINCIPAL_PROPERTY] = result.claims;
    return true;
  }

  private error(code: ErrorCode, message: string): HttpException {
    const body = envelope(code, message);
    return new HttpException(body, body.statusCode);
  }
}

/** How many Authorization fields a request carried (its raw headers: name, value, name, value…). */
function authorizationFields(rawHeaders: string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (/^authorization$/i.test(rawHeaders[i])) n++;
  return n;
}

/**
 * The guard's answer to a refusal. BAD_REQUEST is the token's fault when it names the token (too
 * long to be one): 401. Otherwise it is this route's requirement that no token can meet (a tenant
 * over 128 characters, from a route parameter or a resolver): 403, as for any tenant the token
 * lacks — a 401 would tell the caller to sign in again, which gets it nowhere.
 */
export function refusalCode(error: WireError): ErrorCode {
  if (error.code !== 'BAD_REQUEST') return error.code;
  const fields = (error.details ?? []).map((d) => d.field);
  return fields.length === 0 || fields.includes('token') ? 'UNAUTHENTICATED' : 'FORBIDDEN';
}
