import { credentialHelpers } from '../support/credentials';
import { api, clientCredentialsToken, inDays } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Tokens minted from another credential (POST /tokens, POST /auth/system-token) end with the line
 * they came from: the session's refresh family, the PAT, the API key, the user who asked for a
 * system token. And they never outlast the caps of the client they belong to.
 */
describe('tokens minted from another credential', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { validate, everywhereInvalid, exchange, createUser } = credentialHelpers(stack, () => admin);

  const mint = async (bearer: string, body: Record<string, unknown> = {}) => {
    const r = await api(stack, bearer).post('/api/v1/tokens', body);
    expect(r.status).toBe(201);
    expect((await validate(r.body.access_token as string)).valid).toBe(true);
    return r.body as { access_token: string; expires_in: number; tid: string };
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a token minted from a PAT dies with the PAT', async () => {
    const user = await createUser('pat-minter');
    const session = api(stack, (await login(stack, user.username, user.password)).access_token);
    const pat = await session.post('/api/v1/users/me/tokens', {
      name: 'leak',
      expiresAt: inDays(30),
      permissions: ['tokens:write'],
      tenants: [],
    });
    expect(pat.status).toBe(201);
    const derived = await mint(pat.body.token as string, { token_life: 86400 });
    const unrelated = await mint((await login(stack, user.username, user.password)).access_token);

    expect((await session.del('/api/v1/users/me/tokens/leak')).status).toBe(204);
    await everywhereInvalid(pat.body.token as string);
    await everywhereInvalid(derived.access_token);
    expect(await validate(derived.access_token)).toMatchObject({ valid: false, error: { code: 'UNAUTHENTICATED' } });
    expect((await validate(unrelated.access_token)).valid).toBe(true);
  });

  it("a token minted from an API key's bearer dies with the key", async () => {
    expect((await admin.post('/api/v1/clients', { clientId: 'keyed', roles: ['service'] })).status).toBe(201);
    const key = await admin.post('/api/v1/clients/keyed/api-keys', { name: 'k', permissions: ['tokens:write'] });
    expect(key.status).toBe(201);
    const bearer = ((await (await exchange(key.body.apiKey)).json()) as { access_token: string }).access_token;
    const derived = await mint(bearer);

    expect((await admin.del(`/api/v1/clients/keyed/api-keys/${key.body.id}`)).status).toBe(204);
    await everywhereInvalid(bearer);
    await everywhereInvalid(derived.access_token);
  });

  it('a token minted from a login session dies when refresh-token reuse revokes the session', async () => {
    const user = await createUser('session-minter');
    const first = await login(stack, user.username, user.password);
    const derived = await mint(first.access_token, { token_life: 86400 });
    const refresh = (body: unknown) =>
      fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await refresh({ refresh_token: first.refresh_token })).status).toBe(200);
    expect((await validate(derived.access_token)).valid).toBe(true);
    // The rotated refresh token presented again: the whole family goes (RFC 9700), derived tokens too.
    expect((await refresh({ refresh_token: first.refresh_token })).status).toBe(401);
    await everywhereInvalid(derived.access_token);
  });

  it("a client's maxTokenLifetime caps the tokens it (or a user signed in through it) mints for itself", async () => {
    const created = await admin.post('/api/v1/clients', {
      clientId: 'short',
      roles: ['service'],
      maxTokenLifetime: 60,
    });
    expect(created.status).toBe(201);
    const own = await clientCredentialsToken(stack, 'short', created.body.client_secret as string);
    const long = await api(stack, own).post('/api/v1/tokens', { token_life: 86400 });
    expect(long.status).toBe(400);
    expect(long.body.error.data.fields).toEqual([
      { field: 'token_life', errors: ['token_life must not be greater than 60'] },
    ]);
    expect((await mint(own)).expires_in).toBeLessThanOrEqual(60);

    const user = await createUser('short-user');
    const signedIn = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user.username, password: user.password, clientId: 'short' }),
    });
    const viaClient = ((await signedIn.json()) as { access_token: string; expires_in: number }).access_token;
    expect((await api(stack, viaClient).post('/api/v1/tokens', { token_life: 86400 })).status).toBe(400);
    expect((await mint(viaClient)).expires_in).toBeLessThanOrEqual(60);
  });

  const lifetime = async (token: string) => {
    const claims = (await validate(token)).claims as { exp: number; iat: number };
    return claims.exp - claims.iat;
  };

  it("a client's maxTokenLifetime caps its extended tokens", async () => {
    const created = await admin.post('/api/v1/clients', { clientId: 'short-extended', maxTokenLifetime: 45 });
    expect(created.status).toBe(201);
    // An extended token is the client's token: its chosen expiry is capped by the client's cap too.
    const extended = await admin.post('/api/v1/auth/extended-token', { clientId: 'short-extended', expiry: 3600 });
    expect(extended.status).toBe(200);
    expect(extended.body.expires_in).toBe(45);
    expect(await lifetime(extended.body.access_token as string)).toBe(45);
  });

  it("a client's maxTokenLifetime caps the system tokens it asks for", async () => {
    const created = await admin.post('/api/v1/clients', {
      clientId: 'short-system',
      roles: ['system'],
      maxTokenLifetime: 45,
    });
    expect(created.status).toBe(201);
    // A system token's subject is the asking client: SYSTEM_TOKEN_TTL (300 s) is capped at 45 s.
    const own = await clientCredentialsToken(stack, 'short-system', created.body.client_secret as string);
    const system = await api(stack, own).post('/api/v1/auth/system-token');
    expect(system.status).toBe(200);
    expect(system.body.expires_in).toBeLessThanOrEqual(45);
    expect(await lifetime(system.body.access_token as string)).toBeLessThanOrEqual(45);
  });

  describe('system tokens', () => {
    const systemToken = (bearer: string) => api(stack, bearer).post('/api/v1/auth/system-token');

    it('a system token cannot mint another', async () => {
      const s = await systemToken((await login(stack)).access_token);
      expect(s.status).toBe(200);
      const again = await systemToken(s.body.access_token as string);
      expect({ status: again.status, code: again.body.status }).toEqual({ status: 403, code: 'FORBIDDEN' });
    });

    it("revoking the tokens of the user who asked for one revokes it; the admin's own stays", async () => {
      const other = await createUser('admin-two', ['admin'], []);
      const s = await systemToken((await login(stack, other.username, other.password)).access_token);
      expect(s.status).toBe(200);
      const mine = await systemToken((await login(stack)).access_token);
      expect((await admin.post(`/api/v1/users/${other.id}/revoke`)).status).toBe(200);
      await everywhereInvalid(s.body.access_token as string);
      expect((await validate(mine.body.access_token as string)).valid).toBe(true);
    });

    it("revoking all of one's own tokens (DELETE /tokens) revokes the system tokens one asked for; another user's stays", async () => {
      const user = await createUser('system-four', ['system'], []);
      const s = await systemToken((await login(stack, user.username, user.password)).access_token);
      expect(s.status).toBe(200);
      const others = await systemToken((await login(stack)).access_token);
      const again = api(stack, (await login(stack, user.username, user.password)).access_token);
      expect((await again.del('/api/v1/tokens')).status).toBe(200);
      await everywhereInvalid(s.body.access_token as string);
      expect((await validate(others.body.access_token as string)).valid).toBe(true);
    });

    it('disabling the user who asked for one revokes it', async () => {
      const other = await createUser('admin-three', ['admin'], []);
      const s = await systemToken((await login(stack, other.username, other.password)).access_token);
      expect(s.status).toBe(200);
      expect((await admin.patch(`/api/v1/users/${other.id}`, { enabled: false })).status).toBe(200);
      await everywhereInvalid(s.body.access_token as string);
    });
  });
});
