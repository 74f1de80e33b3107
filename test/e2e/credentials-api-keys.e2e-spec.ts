import { ErrorEnvelope } from '@portcullis/contracts';
import { credentialHelpers } from '../support/credentials';
import {
  api,
  inDays,
  INSUFFICIENT_SCOPE,
  OAuthErrorReply,
  OAuthTokenReply,
  readJson,
  REFUSED,
  refusal,
} from '../support/fixtures';
import { login, Stack } from '../support/stack';

// API keys, and the secrets of every kind kept out of the logs; users and PATs of issue #5 are in
// credentials-users-pats.e2e-spec.ts.
describe('users, PATs, API keys, permissions and tenants (issue #5)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { validate, everywhereInvalid, exchange, createUser } = credentialHelpers(stack, () => admin);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('API keys: the three exchange errors, exchange works, keys die with their client', async () => {
    await admin.post('/api/v1/clients', { clientId: 'robot', roles: ['service'], tenants: ['acme'] });
    const key = await admin.post('/api/v1/clients/robot/api-keys', { name: 'main', permissions: ['token:validate'] });
    expect(key.status).toBe(201);
    expect(key.body.apiKey).toMatch(/^pcl_key_/);
    expect(key.body).toMatchObject({ name: 'main', id: expect.any(String) });
    // Permissions named, tenants not: the key follows the client's tenants, and says so.
    expect(key.body).toMatchObject({ permissions: ['token:validate'], tenants: ['acme'], followsClient: true });
    expect(JSON.stringify((await admin.get('/api/v1/clients/robot/api-keys')).body)).not.toContain(key.body.apiKey);
    const fixed = await admin.post('/api/v1/clients/robot/api-keys', {
      name: 'fixed',
      permissions: [],
      tenants: [],
    });
    expect(fixed.body).toMatchObject({ permissions: [], tenants: [], followsClient: false });
    const listed = (await admin.get('/api/v1/clients/robot/api-keys')).body.items as Array<Record<string, unknown>>;
    expect(listed.every((k) => Array.isArray(k.permissions) && Array.isArray(k.tenants))).toBe(true);
    // A live key's name is taken: 409, and nothing written (its being free after a delete: below).
    const twin = await admin.post('/api/v1/clients/robot/api-keys', { name: 'fixed' });
    expect({ status: twin.status, code: twin.body.status }).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await admin.get('/api/v1/clients/robot/api-keys')).body.items).toHaveLength(2);
    // Created at once under one name: one is made, the others are conflicts, never a 500.
    expect((await admin.post('/api/v1/clients', { clientId: 'racer', roles: ['service'] })).status).toBe(201);
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => admin.post('/api/v1/clients/racer/api-keys', { name: 'race' })),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect((await admin.del(`/api/v1/clients/robot/api-keys/${fixed.body.id}`)).status).toBe(204);

    const ok = await exchange(key.body.apiKey);
    expect(ok.status).toBe(200);
    // The envelope carries the token in `data` too.
    const okBody = await readJson<{ data: { token: string } }>(ok);
    expect(okBody).toMatchObject({
      statusCode: 200,
      status: 'OK',
      message: 'Success',
      data: { token: expect.any(String) },
      access_token: okBody.data.token,
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      roles: expect.any(Array),
    });
    expect((await validate(okBody.data.token)).claims).toMatchObject({
      typ: 'apikey',
      sub: 'robot',
      perms: ['token:validate'],
    });

    const malformed = await exchange('not-a-key');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      statusCode: 400,
      status: 'UNHANDLED_REQUEST_ERROR',
      message: 'Api Key Configuration is invalid. Request a new API-key or contact administrator',
      error: {
        errorKey: 'UNHANDLED_REQUEST_ERROR',
        message: 'Api Key Configuration is invalid. Request a new API-key or contact administrator',
        data: null,
      },
    });
    // A key of the right kind that was never issued (altered, or made up) is unknown, not malformed.
    for (const never of [
      key.body.apiKey.replace(/^pcl_key_.{4}/, 'pcl_key_ZZZZ').replace(/_[^_]{6}$/, '_000000'),
      key.body.apiKey.replace(/^pcl_key_.{4}/, 'pcl_key_ZZZZ'),
      'pcl_key_doesnotexist',
    ]) {
      const unknown = await exchange(never);
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toEqual({
        statusCode: 401,
        status: 'UNAUTHENTICATED',
        message: 'Unauthenticated',
        error: { errorKey: 'UNAUTHENTICATED', message: 'Unauthenticated', data: null },
      });
    }
    const expiredKey = await admin.post('/api/v1/clients/robot/api-keys', {
      name: 'soon',
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await exchange(expiredKey.body.apiKey);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      statusCode: 401,
      status: 'UNAUTHENTICATED',
      message: 'Api Key has expired',
      error: { errorKey: 'UNAUTHENTICATED', message: 'Api Key has expired', data: null },
    });
    const gone = await admin.post('/api/v1/clients/robot/api-keys', { name: 'gone' });
    expect((await admin.del(`/api/v1/clients/robot/api-keys/${gone.body.id}`)).status).toBe(204);
    const revoked = await exchange(gone.body.apiKey);
    expect(revoked.status).toBe(401);
    expect((await readJson<ErrorEnvelope>(revoked)).message).toBe('Unauthenticated');
    // Deleting it again answers the same and changes nothing; a key id never issued is not found.
    expect((await admin.del(`/api/v1/clients/robot/api-keys/${gone.body.id}`)).status).toBe(204);
    const keyDeletions = await stack.query(
      `SELECT 1 FROM audit_events WHERE type = 'apikey.deleted' AND subject = 'robot'`,
    );
    expect(keyDeletions).toHaveLength(2); // `fixed` and `gone`, once each
    expect((await admin.del('/api/v1/clients/robot/api-keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    // Its name is free again; the new key works, the deleted one stays unknown.
    const reborn = await admin.post('/api/v1/clients/robot/api-keys', { name: 'gone' });
    expect(reborn.status).toBe(201);
    expect((await exchange(reborn.body.apiKey)).status).toBe(200);
    expect((await exchange(gone.body.apiKey)).status).toBe(401);
    const names = (await admin.get('/api/v1/clients/robot/api-keys')).body.items.map((k: { name: string }) => k.name);
    expect(names.filter((n: string) => n === 'gone')).toHaveLength(1);

    const tokenExchange = (apiKey: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}) =>
      fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: apiKey,
          subject_token_type: 'urn:portcullis:params:oauth:token-type:api-key',
          ...extra,
        }),
      });
    // Client authentication is optional for the exchange, but credentials presented must be right.
    const exchanger = await admin.post('/api/v1/clients', { clientId: 'exchanger', roles: ['service'] });
    const basicOf = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    });
    const wrongClient = await tokenExchange(key.body.apiKey, basicOf('exchanger', 'pcl_cs_wrong'));
    expect(wrongClient.status).toBe(401);
    expect(wrongClient.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await readJson<OAuthErrorReply>(wrongClient)).error).toBe('invalid_client');
    expect((await tokenExchange(key.body.apiKey, basicOf('nobody', 'whatever'))).status).toBe(401);
    const twoMethods = await tokenExchange(key.body.apiKey, basicOf('exchanger', exchanger.body.client_secret), {
      client_secret: exchanger.body.client_secret,
    });
    expect(twoMethods.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(twoMethods)).error).toBe('invalid_request');
    expect((await tokenExchange(key.body.apiKey, basicOf('exchanger', exchanger.body.client_secret))).status).toBe(200);
    const te = await tokenExchange(key.body.apiKey);
    expect(te.status).toBe(200);
    const teBody = await readJson<OAuthTokenReply>(te);
    expect(teBody).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    // RFC 8693 §2.2.2: a subject token that is not acceptable is invalid_request.
    const teExpired = await tokenExchange(expiredKey.body.apiKey);
    expect(teExpired.status).toBe(400);
    expect(await teExpired.json()).toEqual({ error: 'invalid_request', error_description: 'Api Key has expired' });
    // Too long to be a key: named as the client sent it, not as auth-core's own field.
    const teTooLong = await tokenExchange(`pcl_key_${'a'.repeat(600)}`);
    expect(teTooLong.status).toBe(400);
    expect(await teTooLong.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Invalid request: subject_token',
    });

    expect((await admin.del('/api/v1/clients/robot')).status).toBe(204);
    expect((await exchange(key.body.apiKey)).status).toBe(401);
    await everywhereInvalid(okBody.data.token);
    await everywhereInvalid(teBody.access_token);
  });

  it("an API key's tenants shrink with its client's", async () => {
    await admin.post('/api/v1/clients', { clientId: 'two-tenants', roles: ['service'], tenants: ['t1', 't2'] });
    const key = await admin.post('/api/v1/clients/two-tenants/api-keys', { name: 'k', tenants: ['t1', 't2'] });
    expect(key.status).toBe(201);
    const tenantsNow = async () => {
      const { access_token } = await readJson<OAuthTokenReply>(await exchange(key.body.apiKey));
      return ((await validate(access_token)).claims as { tenants: string[] }).tenants;
    };
    expect(await tenantsNow()).toEqual(['t1', 't2']);
    expect((await admin.patch('/api/v1/clients/two-tenants', { tenants: ['t2'] })).status).toBe(200);
    expect(await tenantsNow()).toEqual(['t2']);
  });

  it('a key wider than its client is refused to any caller (no insufficient_scope); wider than the token, for the token', async () => {
    const made = await admin.post('/api/v1/clients', {
      clientId: 'narrow-keys',
      roles: ['service', 'system'],
      tenants: ['t1'],
    });
    expect(made.status).toBe(201);
    const asked = {
      'a permission the client lacks': await admin.post('/api/v1/clients/narrow-keys/api-keys', {
        permissions: ['users:write'],
      }),
      'a tenant the client lacks': await admin.post('/api/v1/clients/narrow-keys/api-keys', { tenants: ['t2'] }),
    };
    const seen = Object.fromEntries(Object.entries(asked).map(([k, r]) => [k, refusal(r)]));
    expect(seen).toEqual(Object.fromEntries(Object.keys(asked).map((k) => [k, REFUSED])));
    // The client's own token narrowed to `service`: `clients:read` is the client's, not this token's.
    const own = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'narrow-keys',
        client_secret: made.body.client_secret as string,
        scope: 'service',
      }),
    });
    const narrowed = api(stack, (await readJson<OAuthTokenReply>(own)).access_token);
    expect(
      refusal(await narrowed.post('/api/v1/clients/narrow-keys/api-keys', { permissions: ['clients:read'] })),
    ).toEqual(INSUFFICIENT_SCOPE);
  });

  it('keys issued while their client is deleted: each 201 or 404, never a 500, and none outlives it', async () => {
    for (let round = 0; round < 8; round++) {
      const id = `doomed-${round}`;
      expect((await admin.post('/api/v1/clients', { clientId: id, roles: ['service'] })).status).toBe(201);
      const [deleted, ...issued] = await Promise.all([
        admin.del(`/api/v1/clients/${id}`),
        ...[0, 1, 2, 3].map((i) => admin.post(`/api/v1/clients/${id}/api-keys`, { name: `k${i}` })),
      ]);
      expect(deleted.status).toBe(204);
      for (const r of issued) expect([201, 404]).toContain(r.status);
      for (const r of issued.filter((r) => r.status === 201))
        expect((await admin.post('/api/v1/auth', { apiKey: r.body.apiKey })).status).toBe(401);
    }
  });

  it('a bearer exchanged while its key is deleted does not outlive the key', async () => {
    await admin.post('/api/v1/clients', { clientId: 'key-race', roles: ['service'] });
    const bearers: string[] = [];
    for (let round = 0; round < 8; round++) {
      const key = await admin.post('/api/v1/clients/key-race/api-keys', { name: `k${round}` });
      expect(key.status).toBe(201);
      const [deleted, ...exchanged] = await Promise.all([
        admin.del(`/api/v1/clients/key-race/api-keys/${key.body.id}`),
        ...[0, 1, 2, 3].map(() => exchange(key.body.apiKey)),
      ]);
      expect(deleted.status).toBe(204);
      for (const r of exchanged) {
        expect([200, 401]).toContain(r.status);
        if (r.status === 200) bearers.push(((await r.json()) as { access_token: string }).access_token);
      }
    }
    // The delete has answered: every bearer of the key is refused, however the two interleaved.
    // (every replica within a second of it, SPEC §7).
    await new Promise((r) => setTimeout(r, 1000));
    const alive = (await Promise.all(bearers.map(async (t) => ((await validate(t)).valid ? t : null)))).filter(Boolean);
    expect({ bearers: bearers.length > 0, alive }).toEqual({ bearers: true, alive: [] });
  });

  it('never logs a secret it handed out', async () => {
    const u = await createUser('hank');
    const s = await login(stack, 'hank', u.password);
    const pat = (
      await api(stack, s.access_token).post('/api/v1/users/me/tokens', {
        name: 'p',
        expiresAt: inDays(1),
        permissions: [],
        tenants: [],
      })
    ).body.token;
    await validate(pat);
    const client = await admin.post('/api/v1/clients', { clientId: 'logcheck', roles: ['service'] });
    const key = await admin.post('/api/v1/clients/logcheck/api-keys', {});
    await exchange(key.body.apiKey);
    await new Promise((r) => setTimeout(r, 300));
    const logs = stack.logs();
    for (const secret of [
      u.password,
      s.refresh_token,
      s.access_token,
      pat,
      client.body.client_secret,
      key.body.apiKey,
      stack.adminPassword,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
