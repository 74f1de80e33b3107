import { ClientWithSecret, IntrospectionReply, SUBJECTS } from '@portcullis/contracts';
import {
  api,
  DiscoveryReply,
  FieldErrorEnvelope,
  OAuthErrorReply,
  OAuthTokenReply,
  readJson,
  SessionReply,
} from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

const REGISTRATION_TOKEN = 'registration-token-for-tests-0123';

describe('clients and OAuth 2 endpoints (issue #4, 2 replicas)', () => {
  const stack = new Stack({ replicas: 2, env: { CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN } });
  let admin: ReturnType<typeof api>;
  const natsValid = async (token: string) =>
    (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid;
  const everywhere = (token: string, expected: boolean) =>
    within(1000, async () =>
      (await Promise.all(Array.from({ length: 10 }, () => natsValid(token)))).every((v) => v === expected),
    );
  const form = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    });
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  });
  const createClient = async (clientId: string, roles = ['service']) => {
    const r = await admin.post('/api/v1/clients', { clientId, roles, description: `${clientId} service` });
    expect(r.status).toBe(201);
    return r.body as { clientId: string; client_secret: string };
  };
  const cc = async (id: string, secret: string, extra: Record<string, string> = {}) =>
    form('/oauth/token', { grant_type: 'client_credentials', ...extra }, basic(id, secret));

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('client lifecycle: create → token → disable → refused everywhere → enable → new token → delete', async () => {
    const c = await createClient('orders');
    expect(c.client_secret).toMatch(/^pcl_cs_[A-Za-z0-9_-]{43}$/);
    const [row] = await stack.query<{ hex: string }>(
      `SELECT encode(secret_hash, 'hex') AS hex FROM clients WHERE client_id = 'orders'`,
    );
    expect(row.hex).toHaveLength(64);
    expect((await admin.get('/api/v1/clients/orders')).body).toMatchObject({
      clientId: 'orders',
      roles: ['service'],
      enabled: true,
      registered: false,
    });
    expect((await admin.get('/api/v1/clients/orders')).body.client_secret).toBeUndefined();
    expect((await admin.post('/api/v1/clients', { clientId: 'orders' })).status).toBe(409);

    const t1 = await readJson<OAuthTokenReply>(await cc('orders', c.client_secret));
    expect(t1).toMatchObject({ token_type: 'Bearer', roles: ['service'] });
    expect(await natsValid(t1.access_token)).toBe(true);

    expect((await admin.post('/api/v1/clients/orders/disable')).body.enabled).toBe(false);
    await everywhere(t1.access_token, false);
    const refused = await cc('orders', c.client_secret);
    expect(refused.status).toBe(401);
    expect((await readJson<OAuthErrorReply>(refused)).error).toBe('invalid_client');

    expect((await admin.post('/api/v1/clients/orders/enable')).body.enabled).toBe(true);
    const t2 = await readJson<OAuthTokenReply>(await cc('orders', c.client_secret));
    await everywhere(t2.access_token, true);
    expect(await natsValid(t1.access_token)).toBe(false);

    expect((await admin.del('/api/v1/clients/orders')).status).toBe(204);
    await everywhere(t2.access_token, false);
    expect((await admin.get('/api/v1/clients/orders')).status).toBe(404);
    expect((await cc('orders', c.client_secret)).status).toBe(401);

    // Created again under the same id: the new client's tokens are good everywhere, the old ones stay dead.
    const again = await createClient('orders');
    const t3 = await readJson<OAuthTokenReply>(await cc('orders', again.client_secret));
    await everywhere(t3.access_token, true);
    expect(await natsValid(t2.access_token)).toBe(false);
    // The default client of every login is reserved.
    for (const id of ['portcullis', 'Portcullis'])
      expect((await admin.post('/api/v1/clients', { clientId: id, roles: ['service'] })).status).toBe(409);
  });

  it('client_credentials with Basic and post; wrong secret, unknown and disabled clients', async () => {
    const c = await createClient('inventory', ['service', 'reader']);
    expect((await cc('inventory', c.client_secret)).status).toBe(200);
    const post = await form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'inventory',
      client_secret: c.client_secret,
    });
    expect(post.status).toBe(200);

    const wrong = await cc('inventory', 'pcl_cs_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await wrong.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
    const wrongPost = await form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'inventory',
      client_secret: 'nope',
    });
    expect(wrongPost.status).toBe(401);
    expect(wrongPost.headers.get('www-authenticate')).toBeNull();
    expect((await cc('ghost', c.client_secret)).status).toBe(401);
    expect((await form('/oauth/token', { grant_type: 'client_credentials' })).status).toBe(401);

    const narrowed = await (await cc('inventory', c.client_secret, { scope: 'reader' })).json();
    expect(narrowed).toMatchObject({ roles: ['reader'], scope: 'reader' });
    const byPerm = await readJson<OAuthTokenReply>(await cc('inventory', c.client_secret, { scope: 'token:validate' }));
    const claims = (
      await stack.natsRequest<{ claims: { perms: string[] } }>(SUBJECTS.TOKEN_VALIDATE, { token: byPerm.access_token })
    ).claims;
    expect(claims.perms).toEqual(['token:validate']);
    const tooWide = await cc('inventory', c.client_secret, { scope: 'admin' });
    expect(tooWide.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(tooWide)).error).toBe('invalid_scope');
  });

  it('a burst of client_credentials: every token answered is recorded and audited; none after a rotation', async () => {
    const c = await createClient('burst');
    const replies = await Promise.all(Array.from({ length: 60 }, () => cc('burst', c.client_secret)));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    const jti = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).jti as string;
    const tids = await Promise.all(
      replies.map(async (r) => jti(((await r.json()) as { access_token: string }).access_token)),
    );
    expect(new Set(tids).size).toBe(60);
    const recorded = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM access_tokens WHERE cid = 'burst' AND tid = ANY($1::uuid[])`,
      [tids],
    );
    expect(Number(recorded[0].n)).toBe(60);
    const audited = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE type = 'token.issued' AND data->>'tid' = ANY($1::text[])`,
      [tids],
    );
    expect(Number(audited[0].n)).toBe(60);

    // Requests sent after the rotation answered are judged against the new secret only, even
    // while other requests of the same client are in flight.
    const during = Array.from({ length: 20 }, () => cc('burst', c.client_secret));
    const rotated = await admin.patch('/api/v1/clients/burst', { rotateSecret: true });
    expect(rotated.status).toBe(200);
    await Promise.all(during);
    const after = await Promise.all(Array.from({ length: 20 }, () => cc('burst', c.client_secret)));
    expect(after.map((r) => r.status)).toEqual(after.map(() => 401));
    const fresh = await Promise.all(Array.from({ length: 20 }, () => cc('burst', rotated.body.client_secret)));
    expect(fresh.map((r) => r.status)).toEqual(fresh.map(() => 200));
  });

  it('introspection (RFC 7662) and revocation (RFC 7009), including other clients’ tokens', async () => {
    const a = await createClient('alpha', ['reader']);
    const b = await createClient('beta', ['reader']);
    const rs = await createClient('resource-server', ['service']);
    const ta = (await readJson<OAuthTokenReply>(await cc('alpha', a.client_secret))).access_token;

    // An active token's introspection carries exp and iat.
    const own = await readJson<IntrospectionReply & { exp: number; iat: number }>(
      await form('/oauth/introspect', { token: ta }, basic('alpha', a.client_secret)),
    );
    expect(own).toMatchObject({
      active: true,
      sub: 'alpha',
      client_id: 'alpha',
      token_type: 'Bearer',
      roles: ['reader'],
      iss: stack.issuer,
      aud: 'portcullis',
    });
    expect(own.exp - own.iat).toBe(900);
    expect(await (await form('/oauth/introspect', { token: ta }, basic('beta', b.client_secret))).json()).toEqual({
      active: false,
    });
    expect(
      (
        await readJson<IntrospectionReply>(
          await form('/oauth/introspect', { token: ta }, basic('resource-server', rs.client_secret)),
        )
      ).active,
    ).toBe(true);
    expect(
      await (await form('/oauth/introspect', { token: 'garbage' }, basic('alpha', a.client_secret))).json(),
    ).toEqual({ active: false });
    expect((await form('/oauth/introspect', { token: ta }, basic('alpha', 'wrong'))).status).toBe(401);
    expect((await form('/oauth/introspect', { token: ta })).status).toBe(401);

    // beta cannot revoke alpha's token; the answer is still 200.
    expect((await form('/oauth/revoke', { token: ta }, basic('beta', b.client_secret))).status).toBe(200);
    expect(await natsValid(ta)).toBe(true);
    expect((await form('/oauth/revoke', { token: 'unknown-token' }, basic('beta', b.client_secret))).status).toBe(200);
    expect((await form('/oauth/revoke', { token: ta }, basic('beta', 'wrong'))).status).toBe(401);
    const revoked = await form(
      '/oauth/revoke',
      { token: ta, token_type_hint: 'access_token' },
      basic('alpha', a.client_secret),
    );
    expect(revoked.status).toBe(200);
    await everywhere(ta, false);
    expect(await (await form('/oauth/introspect', { token: ta }, basic('alpha', a.client_secret))).json()).toEqual({
      active: false,
    });
    expect((await form('/oauth/revoke', { token: ta }, basic('alpha', a.client_secret))).status).toBe(200);

    // A refresh token of a login on behalf of alpha: alpha may introspect and revoke it.
    const s = await readJson<SessionReply>(
      await fetch(`${stack.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: stack.adminPassword, clientId: 'alpha' }),
      }),
    );
    const me = (await api(stack, s.access_token).get('/api/v1/auth/me')).body;
    expect(me).toMatchObject({ cid: 'alpha', rcid: 'portcullis' });
    expect(
      (
        await readJson<IntrospectionReply>(
          await form(
            '/oauth/introspect',
            { token: s.refresh_token, token_type_hint: 'refresh_token' },
            basic('alpha', a.client_secret),
          ),
        )
      ).active,
    ).toBe(true);
    expect(
      (
        await form(
          '/oauth/revoke',
          { token: s.refresh_token, token_type_hint: 'refresh_token' },
          basic('alpha', a.client_secret),
        )
      ).status,
    ).toBe(200);
    await everywhere(s.access_token, false);
    expect((await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: s.refresh_token })).status).toBe(
      400,
    );
  });

  it('login on behalf of an unknown or disabled client is refused', async () => {
    const res = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: stack.adminPassword, clientId: 'ghost' }),
    });
    expect(res.status).toBe(400);
    expect((await readJson<FieldErrorEnvelope>(res)).error.data.fields[0].field).toBe('clientId');
  });

  it('registration: wrong token refused, default roles only, never admin', async () => {
    const reg = (token: string, body: unknown) =>
      fetch(`${stack.url}/api/v1/clients/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    expect((await reg('wrong-token-wrong-token', { clientId: 'self-1' })).status).toBe(401);
    // No bearer, or one far longer than any registration token (an admin JWT): 401, not 400.
    const bare = await fetch(`${stack.url}/api/v1/clients/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'self-1' }),
    });
    expect(bare.status).toBe(401);
    expect((await reg('x'.repeat(1500), { clientId: 'self-1' })).status).toBe(401);
    expect((await reg(REGISTRATION_TOKEN, { clientId: 'self-1', roles: ['admin'] })).status).toBe(400);
    const ok = await reg(REGISTRATION_TOKEN, { clientId: 'self-1', description: 'registered itself' });
    expect(ok.status).toBe(201);
    const body = await readJson<ClientWithSecret>(ok);
    expect(body).toMatchObject({ clientId: 'self-1', roles: ['service'], registered: true });
    const t = await readJson<OAuthTokenReply>(await cc('self-1', body.client_secret));
    expect(t.roles).toEqual(['service']);
    const self = api(stack, t.access_token);
    expect((await self.get('/api/v1/clients/me')).body.clientId).toBe('self-1');
    const rotated = await self.patch('/api/v1/clients/me', { description: 'changed', rotateSecret: true });
    expect(rotated.body.client_secret).toMatch(/^pcl_cs_/);
    expect((await cc('self-1', body.client_secret)).status).toBe(401);
    expect((await cc('self-1', rotated.body.client_secret)).status).toBe(200);
    expect((await self.patch('/api/v1/clients/me', { roles: ['admin'] })).status).toBe(400);
    expect((await self.post('/api/v1/clients', { clientId: 'sneaky' })).status).toBe(403);
  });

  it('roles: add, remove, clear, and revoke_tokens; listing filters by role', async () => {
    const c = await createClient('roles-demo', ['service']);
    expect((await admin.put('/api/v1/clients/roles-demo/roles/reader')).body.roles).toEqual(['service', 'reader']);
    const t = (await readJson<OAuthTokenReply>(await cc('roles-demo', c.client_secret))).access_token;
    expect(
      (await admin.get('/api/v1/clients?roles=reader')).body.items.map((i: { clientId: string }) => i.clientId),
    ).toContain('roles-demo');
    const removed = await admin.del('/api/v1/clients/roles-demo/roles/reader');
    expect(removed.status).toBe(204);
    expect((await admin.get('/api/v1/clients/roles-demo')).body.roles).toEqual(['service']);
    expect(await natsValid(t)).toBe(true);
    const cleared = await api(stack, (await login(stack)).access_token).del(
      '/api/v1/clients/roles-demo/roles?revoke_tokens=true',
    );
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ roles: [], revokedTokens: 1 });
    expect((await admin.put('/api/v1/clients/roles-demo/roles/reader')).status).toBe(200);
    const clearedQuietly = await admin.del('/api/v1/clients/roles-demo/roles');
    expect(clearedQuietly.status).toBe(204);
    expect((await admin.get('/api/v1/clients/roles-demo')).body.roles).toEqual([]);
    await everywhere(t, false);
  });

  it('password and refresh_token grants: a client that authenticates must do so correctly, and owns what it refreshes', async () => {
    const c = await createClient('portal', ['service']);
    const owner = { grant_type: 'password', username: 'admin', password: stack.adminPassword };
    // No client named: the default client, as before.
    expect((await form('/oauth/token', owner)).status).toBe(200);
    // Basic with the right secret: the token belongs to that client.
    const viaBasic = await form('/oauth/token', owner, basic('portal', c.client_secret));
    expect(viaBasic.status).toBe(200);
    const session = await readJson<SessionReply>(viaBasic);
    const claims = (
      await stack.natsRequest<{ claims: { cid: string } }>(SUBJECTS.TOKEN_VALIDATE, {
        token: session.access_token,
      })
    ).claims;
    expect(claims.cid).toBe('portal');
    const viaPost = await form('/oauth/token', { ...owner, client_id: 'portal', client_secret: c.client_secret });
    expect(viaPost.status).toBe(200);
    // A bare client_id is a public client (`none`): the token is attributed to it, as the native
    // login's clientId is; an unknown one is refused.
    const publicClient = await form('/oauth/token', { ...owner, client_id: 'portal' });
    expect(publicClient.status).toBe(200);
    expect((await form('/oauth/token', { ...owner, client_id: 'nosuch' })).status).toBe(400);
    // A wrong secret, or an unknown client with a secret, is invalid_client — never a token.
    for (const [params, headers] of [
      [owner, basic('portal', 'pcl_cs_wrong')],
      [owner, basic('nosuch', 'whatever')],
      [{ ...owner, client_id: 'portal', client_secret: 'wrong' }, {}],
      [{ ...owner, client_secret: 'orphan-secret' }, {}],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const r = await form('/oauth/token', params, headers);
      expect(r.status).toBe(401);
      expect((await readJson<OAuthErrorReply>(r)).error).toBe('invalid_client');
    }
    // Refresh: the owning client may; another client, or a wrong secret, may not — and the token survives.
    const other = await createClient('other-portal', ['service']);
    const refresh = { grant_type: 'refresh_token', refresh_token: session.refresh_token };
    const stolen = await form('/oauth/token', refresh, basic('other-portal', other.client_secret));
    expect(stolen.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(stolen)).error).toBe('invalid_grant');
    expect((await form('/oauth/token', refresh, basic('portal', 'pcl_cs_wrong'))).status).toBe(401);
    expect((await form('/oauth/token', { ...refresh, client_id: 'other-portal' })).status).toBe(400);
    const rotated = await form('/oauth/token', refresh, basic('portal', c.client_secret));
    expect(rotated.status).toBe(200);
    // A value far too short to be a refresh token is an invalid grant, not a malformed request.
    const garbage = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'garbage' });
    expect(garbage.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(garbage)).error).toBe('invalid_grant');
  });

  it('OAuth endpoints ignore parameters they do not know (RFC 6749 §3.1), and still check the ones they do', async () => {
    const c = await createClient('extensions', ['service']);
    const ok = await cc('extensions', c.client_secret, { resource: 'https://api.example', nonce: 'n-1' });
    expect(ok.status).toBe(200);
    const { access_token } = await readJson<OAuthTokenReply>(ok);
    const introspected = await form(
      '/oauth/introspect',
      { token: access_token, foo: 'bar' },
      basic('extensions', c.client_secret),
    );
    expect(introspected.status).toBe(200);
    expect((await readJson<IntrospectionReply>(introspected)).active).toBe(true);
    const revoked = await form(
      '/oauth/revoke',
      { token: access_token, foo: 'bar' },
      basic('extensions', c.client_secret),
    );
    expect(revoked.status).toBe(200);
    const tooLong = await cc('extensions', c.client_secret, { scope: 'x'.repeat(2000), foo: 'bar' });
    expect(tooLong.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(tooLong)).error).toBe('invalid_request');
  });

  it('discovery lists what the server does', async () => {
    const d = await readJson<DiscoveryReply>(await fetch(`${stack.url}/.well-known/oauth-authorization-server`));
    expect(d.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'password', 'refresh_token']),
    );
    expect(d.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(d).toMatchObject({
      introspection_endpoint: `${stack.issuer}/oauth/introspect`,
      revocation_endpoint: `${stack.issuer}/oauth/revoke`,
      token_exchange_subject_token_types_supported: expect.arrayContaining([
        'urn:portcullis:params:oauth:token-type:api-key',
      ]),
    });
  });

  it('works with openid-client as a real OAuth client', async () => {
    const oc = await import('openid-client');
    const c = await createClient('oc-client', ['service']);
    const config = await oc.discovery(
      new URL(stack.issuer),
      'oc-client',
      undefined,
      oc.ClientSecretBasic(c.client_secret),
      { execute: [oc.allowInsecureRequests] },
    );
    expect(config.serverMetadata().issuer).toBe(stack.issuer);
    const cct = await oc.clientCredentialsGrant(config);
    expect(cct.token_type.toLowerCase()).toBe('bearer');
    const info = await oc.tokenIntrospection(config, cct.access_token);
    expect(info).toMatchObject({ active: true, client_id: 'oc-client' });
    await oc.tokenRevocation(config, cct.access_token);
    expect((await oc.tokenIntrospection(config, cct.access_token)).active).toBe(false);

    const pw = await oc.genericGrantRequest(config, 'password', { username: 'admin', password: stack.adminPassword });
    const refreshed = await oc.refreshTokenGrant(config, pw.refresh_token!);
    expect(refreshed.access_token).not.toBe(pw.access_token);
    await expect(oc.refreshTokenGrant(config, pw.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const wrong = await oc.discovery(new URL(stack.issuer), 'oc-client', undefined, oc.ClientSecretPost('wrong'), {
      execute: [oc.allowInsecureRequests],
    });
    await expect(oc.clientCredentialsGrant(wrong)).rejects.toMatchObject({ error: 'invalid_client' });
  });
});
