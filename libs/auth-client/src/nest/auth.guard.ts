import { CanActivate, ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { envelope, ErrorCode } from '@portcullis/contracts';
import { AuthClient } from '../auth-client';
import type { ValidationMode } from '../auth-client.options';
import { MODE_KEY, PERMISSIONS_KEY, PRINCIPAL_PROPERTY, ROLES_KEY, TENANT_KEY } from './decorators';

export const AUTH_CLIENT = Symbol('PORTCULLIS_AUTH_CLIENT');
/** RFC 6750 §2.1: `Bearer 1*SP token`, as the gateway takes it. */
const BEARER = /^Bearer +([^\s]+)$/i;

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
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
    if (!result.valid) {
      const code = result.error.code === 'BAD_REQUEST' ? 'UNAUTHENTICATED' : result.error.code;
      throw this.error(code, result.error.message);
    }
    req[PRINCIPAL_PROPERTY] = result.claims;
    return true;
  }

  private error(code: ErrorCode, message: string): HttpException {
    const body = envelope(code, message);
    return new HttpException(body, body.statusCode);
  }
}
