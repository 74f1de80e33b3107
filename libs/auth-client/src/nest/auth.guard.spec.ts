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

describe('AuthGuard: several Authorization fields', () => {
  const client = { validate: async () => ok } as unknown as AuthClient;
  const guard = new AuthGuard(client, new Reflector());
  const withRaw = (rawHeaders: string[], fastify: boolean) => {
    const node = { headers: { authorization: 'Bearer abc' }, params: {}, rawHeaders };
    const req = fastify ? { headers: node.headers, params: {}, raw: node } : node;
    return {
      switchToHttp: () => ({ getRequest: () => req }),
      getHandler: () => () => undefined,
      getClass: () => class {},
    } as unknown as ExecutionContext;
  };

  it.each([true, false])('400 for two (Fastify: %s); one passes', async (fastify) => {
    const two = ['Authorization', 'Bearer abc', 'authorization', 'Bearer other'];
    const err = await guard.canActivate(withRaw(two, fastify)).catch((e: unknown) => e);
    expect((err as HttpException).getStatus()).toBe(400);
    await expect(guard.canActivate(withRaw(['Authorization', 'Bearer abc'], fastify))).resolves.toBe(true);
  });
});

describe('AuthGuard: a request auth-core refuses as malformed (BAD_REQUEST)', () => {
  const refusal = (fields: string[]) => ({
    valid: false,
    error: {
      code: 'BAD_REQUEST',
      message: `Invalid request: ${fields.join(', ')}`,
      details: fields.map((field) => ({ field, errors: [`${field} is wrong`] })),
    },
  });
  class Routes {
    @Tenant(() => 't'.repeat(200)) byResolver() {}
  }

  it.each([
    ['the token (too long to be one)', 401, ['token']],
    ['the token and the tenant', 401, ['token', 'tenant']],
    ['only the tenant the route requires (no token can hold it)', 403, ['tenant']],
    ['only the roles the route requires', 403, ['roles']],
  ])('naming %s → %i', async (_label, status, fields) => {
    const client = { validate: async () => refusal(fields) } as unknown as AuthClient;
    const guard = new AuthGuard(client, new Reflector());
    const err = await guard.canActivate(contextFor(Routes.prototype.byResolver, {})).catch((e: unknown) => e);
    expect((err as HttpException).getStatus()).toBe(status);
  });
});
