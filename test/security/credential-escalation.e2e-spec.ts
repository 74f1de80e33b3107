import { clientHelpers } from '../support/clients';
import { credentialHelpers } from '../support/credentials';
import { api, inDays, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * A narrow credential must not make itself a wider one. A PAT narrowed to some permissions, an API
 * key's bearer, a token narrowed by scope or by roles: none may mint a wider or longer-lived
 * credential for its own principal, rotate its client's secret, or delete its siblings. Each case
 * below was possible before (found by a black-box audit): a `token:validate` API key rotated its
 * client's secret and issued itself a full key; a `tokens:write` PAT created a 30-day admin PAT.
 */
describe('narrow credentials cannot widen themselves', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;
  const { validate, everywhereInvalid, exchange, createUser } = credentialHelpers(stack, () => admin);
  const { createClient, cc } = clientHelpers(stack, () => admin);
  const forbidden = { status: 403, body: expect.objectContaining({ status: 'FORBIDDEN' }) };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a narrowed PAT creates no PAT and deletes none by name; a session still does', async () => {
    const boss = await createUser('esc-boss', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const narrow = await session.post('/api/v1/users/me/tokens', {
      name: 'narrow',
      permissions: ['tokens:write'],
      expiresAt: inDays(1),
    });
    expect(narrow.status).toBe(201);
    const pat = api(stack, narrow.body.token);

    expect(await pat.post('/api/v1/users/me/tokens', { name: 'wide' })).toMatchObject(forbidden);
    expect(await pat.post(`/api/v1/users/${boss.id}/tokens`, { name: 'wide' })).toMatchObject(forbidden);
    expect(await pat.del('/api/v1/users/me/tokens/narrow')).toMatchObject(forbidden);
    const names = (await session.get('/api/v1/users/me/tokens')).body.items.map((p: { name: string }) => p.name);
    expect(names).toEqual(['narrow']);

    // A token minted from the PAT (POST /tokens carries its perms) is no way around it.
    const minted = await pat.post('/api/v1/tokens', {});
    expect(minted.status).toBe(201);
    expect(await api(stack, minted.body.access_token).post('/api/v1/users/me/tokens', { name: 'wide' })).toMatchObject(
      forbidden,
    );

    expect((await session.post('/api/v1/users/me/tokens', { name: 'wide' })).status).toBe(201);
    expect((await session.del('/api/v1/users/me/tokens/wide')).status).toBe(204);
  });

  it('a token minted from a PAT ends no later than the PAT', async () => {
    const user = await createUser('esc-short');
    const session = api(stack, (await login(stack, user.username, user.password)).access_token);
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const pat = await session.post('/api/v1/users/me/tokens', { name: 'hour', expiresAt: inAnHour });
    expect(pat.status).toBe(201);
    const viaPat = api(stack, pat.body.token);
    const long = await viaPat.post('/api/v1/tokens', { token_life: 7200 });
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain('token_life');
    const ok = await viaPat.post('/api/v1/tokens', { token_life: 1800 });
    expect(ok.status).toBe(201);
    // From a session the same request is allowed: only derived credentials are capped.
    expect((await session.post('/api/v1/tokens', { token_life: 7200 })).status).toBe(201);
  });

  it('a session narrowed to fewer roles makes no PAT wider than itself', async () => {
    const boss = await createUser('esc-boss2', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const asUser = await session.post('/api/v1/tokens', { roles: ['user'] });
    expect(asUser.status).toBe(201);
    const narrowed = api(stack, asUser.body.access_token);
    expect(await narrowed.post('/api/v1/users/me/tokens', { name: 'x', permissions: ['users:write'] })).toMatchObject(
      forbidden,
    );
    const made = await narrowed.post('/api/v1/users/me/tokens', { name: 'y' });
    expect(made.status).toBe(201);
    expect([...made.body.permissions].sort()).toEqual(['token:validate', 'tokens:read', 'tokens:write']);
    const claims = (await validate(made.body.token)).claims as { perms: string[] };
    expect(claims.perms).not.toContain('users:write');
  });

  it("an API key's bearer neither rotates its client's secret nor issues or deletes its keys", async () => {
    const { client_secret: secret } = await createClient('esc-robot');
    const key = await admin.post('/api/v1/clients/esc-robot/api-keys', {
      name: 'narrow',
      permissions: ['token:validate'],
    });
    const other = await admin.post('/api/v1/clients/esc-robot/api-keys', { name: 'other' });
    const bearer = (await readJson<{ access_token: string }>(await exchange(key.body.apiKey))).access_token;
    const asKey = api(stack, bearer);

    expect(await asKey.patch('/api/v1/clients/me', { rotateSecret: true })).toMatchObject(forbidden);
    expect(await asKey.post('/api/v1/clients/esc-robot/api-keys', { name: 'wide' })).toMatchObject(forbidden);
    expect(await asKey.del(`/api/v1/clients/esc-robot/api-keys/${other.body.id}`)).toMatchObject(forbidden);
    // Reading is still its own; nothing changed.
    const listed = await asKey.get('/api/v1/clients/esc-robot/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((k: { name: string }) => k.name).sort()).toEqual(['narrow', 'other']);
    expect((await cc('esc-robot', secret)).status).toBe(200);

    // The client's own token may do all three.
    const own = api(stack, ((await (await cc('esc-robot', secret)).json()) as { access_token: string }).access_token);
    expect((await own.post('/api/v1/clients/esc-robot/api-keys', { name: 'third' })).status).toBe(201);
    expect((await own.del(`/api/v1/clients/esc-robot/api-keys/${other.body.id}`)).status).toBe(204);
    const rotated = await own.patch('/api/v1/clients/me', { rotateSecret: true });
    expect(rotated.status).toBe(200);
    expect((await cc('esc-robot', secret)).status).toBe(401);
    expect((await cc('esc-robot', rotated.body.client_secret)).status).toBe(200);
  });

  it("an API key's bearer rotates no secret of its own client through the administrators' PATCH either", async () => {
    // A client that holds clients:write may PATCH clients, itself included: not its secret from a key.
    const { client_secret: secret } = await createClient('esc-own-admin', ['admin']);
    const key = await admin.post('/api/v1/clients/esc-own-admin/api-keys', { name: 'follows' });
    expect(key.status).toBe(201);
    const bearer = (await readJson<{ access_token: string }>(await exchange(key.body.apiKey))).access_token;
    const asKey = api(stack, bearer);
    expect(await asKey.patch('/api/v1/clients/esc-own-admin', { rotateSecret: true })).toMatchObject(forbidden);
    expect((await cc('esc-own-admin', secret)).status).toBe(200);
    // Its description it may still change, as through /clients/me; the client's own token may rotate.
    expect((await asKey.patch('/api/v1/clients/esc-own-admin', { description: 'x' })).status).toBe(200);
    const own = api(
      stack,
      ((await (await cc('esc-own-admin', secret)).json()) as { access_token: string }).access_token,
    );
    expect((await own.patch('/api/v1/clients/esc-own-admin', { rotateSecret: true })).status).toBe(200);
  });

  it('a client token narrowed by scope rotates no secret and issues no wider key', async () => {
    const { client_secret: secret } = await createClient('esc-scoped');
    const scoped = await cc('esc-scoped', secret, { scope: 'token:validate' });
    expect(scoped.status).toBe(200);
    const asScoped = api(stack, ((await scoped.json()) as { access_token: string }).access_token);
    expect(await asScoped.patch('/api/v1/clients/me', { rotateSecret: true })).toMatchObject(forbidden);
    expect(await asScoped.post('/api/v1/clients/esc-scoped/api-keys', { name: 'k' })).toMatchObject(forbidden);
    expect((await cc('esc-scoped', secret)).status).toBe(200);
  });

  it('a narrowed token makes an extended token no wider (it keeps the narrowing, like POST /tokens)', async () => {
    const boss = await createUser('esc-boss4', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const pat = await session.post('/api/v1/users/me/tokens', { name: 'mint', permissions: ['tokens:admin'] });
    expect(pat.status).toBe(201);
    await createClient('esc-root-client', ['admin']);
    const extended = await api(stack, pat.body.token).post('/api/v1/auth/extended-token', {
      clientId: 'esc-root-client',
      expiry: 86400,
    });
    expect(extended.status).toBeLessThan(300);
    expect((await validate(extended.body.access_token)).claims).toMatchObject({
      typ: 'extended',
      perms: ['tokens:admin'],
    });
    expect(await api(stack, extended.body.access_token).get('/api/v1/users')).toMatchObject(forbidden);
    // An administrator's own session still gets the client's whole token.
    const whole = await session.post('/api/v1/auth/extended-token', { clientId: 'esc-root-client', expiry: 86400 });
    expect((await api(stack, whole.body.access_token).get('/api/v1/users')).status).toBe(200);
  });

  it('what a PAT mints for another client ends with the PAT: no later than it, and when it is deleted', async () => {
    const boss = await createUser('esc-boss5', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const pat = await session.post('/api/v1/users/me/tokens', {
      name: 'line',
      permissions: ['tokens:admin', 'tokens:write'],
      expiresAt: inAnHour,
    });
    expect(pat.status).toBe(201);
    const viaPat = api(stack, pat.body.token);
    await createClient('esc-line-client', ['service']);

    const minted = await viaPat.post('/api/v1/tokens', { client_id: 'esc-line-client' });
    expect(minted.status).toBe(201);
    const extended = await viaPat.post('/api/v1/auth/extended-token', { clientId: 'esc-line-client', expiry: 86400 });
    expect(extended.status).toBeLessThan(300);
    // Capped, like the expiry asked of an extended token, at what is left of the PAT.
    expect(extended.body.expires_in).toBeLessThanOrEqual(3600);
    const exp = (await validate(extended.body.access_token)).claims!.exp as number;
    expect(exp * 1000).toBeLessThanOrEqual(Date.parse(inAnHour) + 1000);

    expect((await session.del('/api/v1/users/me/tokens/line')).status).toBe(204);
    await everywhereInvalid(minted.body.access_token);
    await everywhereInvalid(extended.body.access_token);
    // An administrator's session mints for a client tokens of the client's own line.
    const own = await session.post('/api/v1/tokens', { client_id: 'esc-line-client' });
    expect((await validate(own.body.access_token)).valid).toBe(true);
  });

  it('a system token asked with a PAT ends no later than the PAT', async () => {
    const boss = await createUser('esc-boss6', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const soon = new Date(Date.now() + 60_000).toISOString();
    const pat = await session.post('/api/v1/users/me/tokens', { name: 'short', expiresAt: soon });
    expect(pat.status).toBe(201);
    const system = await api(stack, pat.body.token).post('/api/v1/auth/system-token', {});
    expect(system.status).toBe(200);
    // SYSTEM_TOKEN_TTL is 300 s: the PAT has about 60 left.
    expect(system.body.expires_in).toBeLessThanOrEqual(60);
    const exp = (await validate(system.body.access_token)).claims!.exp as number;
    expect(exp * 1000).toBeLessThanOrEqual(Date.parse(soon) + 1000);
    // A session asks for the whole SYSTEM_TOKEN_TTL: the session's end revokes it (its family).
    expect((await session.post('/api/v1/auth/system-token', {})).body.expires_in).toBe(300);
  });

  it('a narrowed token makes a system token no wider; the system role mints no extended admin token', async () => {
    const boss = await createUser('esc-boss3', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const pat = await session.post('/api/v1/users/me/tokens', { name: 'v', permissions: ['token:validate'] });
    const system = await api(stack, pat.body.token).post('/api/v1/auth/system-token', {});
    expect(system.status).toBe(200);
    expect((await validate(system.body.access_token)).claims).toMatchObject({
      typ: 'system',
      perms: ['token:validate'],
    });
    expect(await api(stack, system.body.access_token).get('/api/v1/users')).toMatchObject(forbidden);

    const component = await createUser('esc-component', ['system']);
    const asSystem = api(stack, (await login(stack, component.username, component.password)).access_token);
    await createClient('esc-admin-client', ['admin']);
    await createClient('esc-service-client', ['service']);
    const toAdmin = await asSystem.post('/api/v1/auth/extended-token', { clientId: 'esc-admin-client', expiry: 86400 });
    expect(toAdmin).toMatchObject(forbidden);
    const toService = await asSystem.post('/api/v1/auth/extended-token', {
      clientId: 'esc-service-client',
      expiry: 86400,
    });
    expect(toService.status).toBeLessThan(300);
    // An administrator (tokens:admin) still may.
    expect(
      (await admin.post('/api/v1/auth/extended-token', { clientId: 'esc-admin-client', expiry: 86400 })).status,
    ).toBeLessThan(300);
  });

  it('a PAT or an API key narrowed to some permissions meets no role requirement beyond them', async () => {
    // Before: the claims carry the owner's roles beside the narrowed perms, and a role requirement
    // looked at the roles alone: an admin's read-only PAT passed validate with roles=[admin] (REST,
    // NATS, the SDK's @Roles guard), so a service gating on the admin role let it do anything.
    const boss = await createUser('role-boss', ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const readOnly = await session.post('/api/v1/users/me/tokens', {
      name: 'read-only',
      permissions: ['tokens:read'],
      expiresAt: inDays(1),
    });
    const full = await session.post('/api/v1/users/me/tokens', { name: 'full', expiresAt: inDays(1) });
    const asAdmin = { roles: ['admin'] };
    expect(await validate(readOnly.body.token, asAdmin)).toMatchObject({ valid: false, error: { code: 'FORBIDDEN' } });
    expect((await api(stack).post('/api/v1/auth/validate', { token: readOnly.body.token, ...asAdmin })).status).toBe(
      403,
    );
    expect((await validate(readOnly.body.token, { permissions: ['tokens:read'] })).valid).toBe(true);
    // Not narrowed below the role, it meets it as before.
    expect((await validate(full.body.token, asAdmin)).valid).toBe(true);

    await createClient('role-robot', ['admin']);
    const key = await admin.post('/api/v1/clients/role-robot/api-keys', { name: 'k', permissions: ['token:validate'] });
    const bearer = (await readJson<{ access_token: string }>(await exchange(key.body.apiKey))).access_token;
    expect(await validate(bearer, asAdmin)).toMatchObject({ valid: false, error: { code: 'FORBIDDEN' } });
    const wide = await admin.post('/api/v1/clients/role-robot/api-keys', { name: 'wide' });
    const wideBearer = (await readJson<{ access_token: string }>(await exchange(wide.body.apiKey))).access_token;
    expect((await validate(wideBearer, asAdmin)).valid).toBe(true);
  });
});
