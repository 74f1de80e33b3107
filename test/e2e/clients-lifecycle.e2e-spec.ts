import { randomUUID } from 'node:crypto';
import { ClientWithSecret, ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { clientHelpers } from '../support/clients';
import { api, FieldErrorEnvelope, OAuthErrorReply, OAuthTokenReply, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

const REGISTRATION_TOKEN = 'registration-token-for-tests-0123';

// Clients: their lifecycle, client_credentials, registration and roles; the other OAuth 2
// endpoints of issue #4 are in clients-oauth.e2e-spec.ts.
describe('clients and OAuth 2 endpoints (issue #4, 2 replicas)', () => {
  const stack = new Stack({ replicas: 2, env: { CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN } });
  let admin: ReturnType<typeof api>;
  const { natsValid, everywhere, form, createClient, cc } = clientHelpers(stack, () => admin);

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
    // A service account sees its own client, not every other one and their keys (no clients:read).
    const asOrders = api(stack, t1.access_token);
    expect((await asOrders.get('/api/v1/clients/me')).status).toBe(200);
    expect((await asOrders.get('/api/v1/clients/orders/api-keys')).status).toBe(200);
    expect((await asOrders.get('/api/v1/clients')).status).toBe(403);
    expect((await asOrders.get('/api/v1/clients/orders')).status).toBe(403);

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

  it('login on behalf of an unknown or disabled client is refused', async () => {
    const res = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: stack.adminPassword, clientId: 'ghost' }),
    });
    expect(res.status).toBe(400);
    const body = await readJson<FieldErrorEnvelope>(res);
    expect(body).toMatchObject({ status: 'BAD_REQUEST', error: { errorKey: 'BAD_REQUEST' } });
    expect(body.error.data.fields[0].field).toBe('clientId');
    // Over NATS the refusal has a code of its own, which the OAuth password grant answers as
    // invalid_client (before: BAD_REQUEST, told apart from other bad input by its field list).
    const msg = await stack.natsRaw(
      SUBJECTS.LOGIN,
      JSON.stringify({ username: 'admin', password: stack.adminPassword, clientId: 'ghost' }),
    );
    expect(msg.headers?.get(ERROR_HEADER)).toBe('UNKNOWN_CLIENT');
    expect(msg.json()).toMatchObject({
      error: { code: 'UNKNOWN_CLIENT', details: [{ field: 'clientId', errors: ['client is unknown or disabled'] }] },
    });
  });

  it('the password grant naming an unknown or disabled public client is invalid_client (RFC 6749 §5.2)', async () => {
    await createClient('parked');
    expect((await admin.post('/api/v1/clients/parked/disable')).status).toBe(200);
    const grant = { grant_type: 'password', username: 'admin', password: stack.adminPassword };
    for (const client_id of ['ghost', 'parked']) {
      const res = await form('/oauth/token', { ...grant, client_id });
      // Before: 400 invalid_request, where the same client presenting a secret got invalid_client.
      expect({ client_id, status: res.status, error: (await readJson<OAuthErrorReply>(res)).error }).toEqual({
        client_id,
        status: 401,
        error: 'invalid_client',
      });
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="portcullis"');
    }
    // A known public client still signs in, and nothing was written for the refused ones.
    await createClient('billing-ui');
    expect((await form('/oauth/token', { ...grant, client_id: 'billing-ui' })).status).toBe(200);
    const rows = await stack.query(`SELECT 1 FROM access_tokens WHERE cid IN ('ghost', 'parked')`);
    expect(rows).toHaveLength(0);
  });

  it("a client cannot take a user's id: it would own that user's tokens (list, read, revoke them)", async () => {
    const victim = await login(stack);
    const reg = await fetch(`${stack.url}/api/v1/clients/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify({ clientId: victim.userId }),
    });
    expect(reg.status).toBe(409);
    const made = await admin.post('/api/v1/clients', { clientId: victim.userId.toUpperCase(), roles: ['service'] });
    expect(made.status).toBe(409);
    expect((await stack.query(`SELECT 1 FROM clients WHERE lower(client_id) = $1`, [victim.userId])).length).toBe(0);
    // A deleted user's id too: the tokens on record are still that user's.
    const gone = await admin.post('/api/v1/users', { username: `gone-${Date.now()}`, password: 'gone-user-Pa55word!' });
    expect(gone.status).toBe(201);
    await login(stack, gone.body.username, 'gone-user-Pa55word!');
    expect((await admin.del(`/api/v1/users/${gone.body.id}`)).status).toBe(204);
    expect((await admin.post('/api/v1/clients', { clientId: gone.body.id })).status).toBe(409);
    // Any other UUID is an id like another (ids generated by the caller often are UUIDs).
    const other = randomUUID();
    expect((await admin.post('/api/v1/clients', { clientId: other, roles: ['service'] })).status).toBe(201);
    // The victim's session is still its own.
    expect((await api(stack, victim.access_token).get('/api/v1/auth/me')).status).toBe(200);
  });

  it("no client may be named 'me': GET/PATCH /clients/me are the caller's own client, never it", async () => {
    const made = await admin.post('/api/v1/clients', { clientId: 'me', roles: ['service'] });
    expect({ status: made.status, body: made.body }).toMatchObject({ status: 409, body: { status: 'CONFLICT' } });
    const reg = await fetch(`${stack.url}/api/v1/clients/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify({ clientId: 'me' }),
    });
    expect(reg.status).toBe(409);
    expect(await stack.query(`SELECT 1 FROM clients WHERE client_id = 'me'`)).toHaveLength(0);
    // Only the route's own word: ids that merely contain it, or differ in case, stay usable.
    expect((await admin.post('/api/v1/clients', { clientId: 'Me' })).status).toBe(201);
    expect((await admin.post('/api/v1/clients', { clientId: 'me.too' })).status).toBe(201);
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
});
