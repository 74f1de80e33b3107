import 'reflect-metadata';
import { ExecutionContext, HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthClient } from '../auth-client';
import { AuthGuard } from './auth.guard';
import { Tenant } from './decorators';

const ok = { valid: true, claims: { sub: 's', tenants: ['acme'] } };

function contextFor(handler: () => void, params: Record<string, string>): ExecutionContext {
  const req = { headers: { authorization: 'Bearer abc' }, params };
  return {
    switchToHttp: () => ({ getRequest: () => req }),
    getHandler: () => handler,
    getClass: () => class {},
  } as unknown as ExecutionContext;
}

describe('AuthGuard: a tenant requirement that resolves to nothing is refused, not dropped', () => {
  const asked: unknown[] = [];
  const client = { validate: async (_t: string, req: unknown) => (asked.push(req), ok) } as unknown as AuthClient;
  const guard = new AuthGuard(client, new Reflector());

  class Routes {
    @Tenant('tenant') byParam() {}
    @Tenant(() => undefined) byFunction() {}
  }

  it('passes the tenant of the route parameter on', async () => {
    await expect(guard.canActivate(contextFor(Routes.prototype.byParam, { tenant: 'acme' }))).resolves.toBe(true);
    expect(asked.pop()).toEqual({ tenant: 'acme' });
  });

  it.each([
    ['a missing route parameter', Routes.prototype.byParam, {}],
    ['an empty one', Routes.prototype.byParam, { tenant: '' }],
    ['a resolver answering nothing', Routes.prototype.byFunction, {}],
  ])('403 for %s, without asking anyone', async (_label, handler, params) => {
    const before = asked.length;
    const err = await guard.canActivate(contextFor(handler, params)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).getStatus()).toBe(403);
    expect(asked.length).toBe(before);
  });
});

describe('AuthGuard: the bearer token (RFC 6750 §2.1, `Bearer 1*SP token`)', () => {
  const tokens: string[] = [];
  const client = { validate: async (t: string) => (tokens.push(t), ok) } as unknown as AuthClient;
  const guard = new AuthGuard(client, new Reflector());
  const withHeader = (authorization: string) =>
    ({
      switchToHttp: () => ({ getRequest: () => ({ headers: { authorization }, params: {} }) }),
      getHandler: () => () => undefined,
      getClass: () => class {},
    }) as unknown as ExecutionContext;

  // More than one space was refused with 401, while the gateway takes it (and the RFC allows it).
  it.each(['Bearer abc', 'Bearer  abc', 'bearer   abc'])('takes %j', async (header) => {
    await expect(guard.canActivate(withHeader(header))).resolves.toBe(true);
    expect(tokens.pop()).toBe('abc');
  });

  it.each(['Bearer', 'Bearer ', 'Bearer a b', 'Basic abc', 'Bearerabc'])('401 for %j', async (header) => {
    const err = await guard.canActivate(withHeader(header)).catch((e: unknown) => e);
    expect((err as HttpException).getStatus()).toBe(401);
  });
});
