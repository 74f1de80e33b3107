import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorEnvelope, JwksReply, MeReply, SUBJECTS } from '@portcullis/contracts';
import { api, DiscoveryReply, FieldErrorEnvelope, OAuthErrorReply, readJson, SessionReply } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/** The core lifecycle of issue #2 against two real auth-core replicas, PostgreSQL and NATS. */
describe('token lifecycle (2 auth-core replicas)', () => {
  const stack = new Stack({ replicas: 2 });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, token?: string) =>
    fetch(`${stack.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const restValid = async (token: string) => (await get('/api/v1/auth/validate', token)).status === 200;
  const natsValid = async (token: string) =>
    (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid;

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('login → me → validate (REST and NATS) → refresh → replay → family revoked everywhere', async () => {
    const first = await login(stack);
    expect(first).toMatchObject({ token_type: 'Bearer', roles: ['admin'], passwordWasNeverChanged: true });
    expect(first.refresh_token).toMatch(/^pcl_rt_[A-Za-z0-9_-]{43}$/);
    expect(first.expires_in).toBe(900);

    const me = await readJson<MeReply>(await get('/api/v1/auth/me', first.access_token));
    expect(me).toMatchObject({
      tid: first.tid,
      cid: 'portcullis',
      rcid: 'portcullis',
      r: ['admin'],
      typ: 'user',
      username: 'admin',
      sub: first.userId,
      revoked: false,
      user: { id: first.userId, username: 'admin', roles: ['admin'], enabled: true, source: 'local' },
      expiry: me.ets,
    });
    expect(new Date(me.ets).getTime() - new Date(me.cts).getTime()).toBe(900_000);

    const restBody = await (await get('/api/v1/auth/validate', first.access_token)).json();
    expect(restBody).toMatchObject({
      valid: true,
      claims: { sub: first.userId, jti: first.tid, iss: stack.issuer, aud: 'portcullis' },
    });
    expect(await natsValid(first.access_token)).toBe(true);
    expect((await post('/api/v1/auth/validate', { token: first.access_token })).status).toBe(200);

    const refreshed = await post('/api/v1/auth/refresh', { refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    const second = await readJson<SessionReply>(refreshed);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(await natsValid(second.access_token)).toBe(true);

    // Replaying the rotated token is reuse: the whole family dies, including the fresh tokens.
    const replay = await post('/api/v1/auth/refresh', { refresh_token: first.refresh_token });
    expect(replay.status).toBe(401);
    expect((await readJson<ErrorEnvelope>(replay)).status).toBe('UNAUTHENTICATED');
    await within(1000, async () => !(await natsValid(second.access_token)) && !(await natsValid(first.access_token)));
    for (let i = 0; i < 10; i++) {
      expect(await restValid(first.access_token)).toBe(false);
      expect(await restValid(second.access_token)).toBe(false);
      expect(await natsValid(second.access_token)).toBe(false);
    }
    expect((await post('/api/v1/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(401);
    const audit = await stack.query(`SELECT type FROM audit_events WHERE type = 'refresh.reuse_detected'`);
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('logout revokes the token on every replica within one second', async () => {
    const s = await login(stack);
    const revokedBefore = [
      await stack.metric(0, 'portcullis_auth_core_validations_total{outcome="revoked"}'),
      await stack.metric(1, 'portcullis_auth_core_validations_total{outcome="revoked"}'),
    ];
    const out = await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.access_token}` },
    });
    expect(out.status).toBe(204);
    const started = Date.now();
    // Queue-group routing spreads these over both replicas; each must refuse.
    const answers = await Promise.all(Array.from({ length: 60 }, () => natsValid(s.access_token)));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answers.every((v) => v === false)).toBe(true);
    const revokedAfter = [
      await stack.metric(0, 'portcullis_auth_core_validations_total{outcome="revoked"}'),
      await stack.metric(1, 'portcullis_auth_core_validations_total{outcome="revoked"}'),
    ];
    expect(revokedAfter[0]).toBeGreaterThan(revokedBefore[0]);
    expect(revokedAfter[1]).toBeGreaterThan(revokedBefore[1]);
    // The refresh family went with it (refused as revoked, not as reuse), and logging out twice
    // answers as the first time (revocation is idempotent; logout-idempotency has the rest).
    const afterLogout = await post('/api/v1/auth/refresh', { refresh_token: s.refresh_token });
    expect(afterLogout.status).toBe(401);
    expect((await readJson<ErrorEnvelope>(afterLogout)).message).toBe('Refresh token has been revoked');
    const again = await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.access_token}` },
    });
    expect(again.status).toBe(204);
  });

  it('logout with a refresh token sent along: its own session ends too; a foreign one is refused and nothing changes', async () => {
    const a = await login(stack);
    const b = await login(stack);
    const c = await login(stack);
    const logout = (token: string, body: object) =>
      fetch(`${stack.url}/api/v1/auth/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bogus = await logout(a.access_token, { refresh_token: 'pcl_rt_' + 'x'.repeat(43) });
    expect(bogus.status).toBe(400);
    expect(await natsValid(a.access_token)).toBe(true);
    expect((await logout(a.access_token, { refresh_token: a.refresh_token, extra: 1 })).status).toBe(400);
    // Another session of the same user, sent along: both end.
    expect((await logout(a.access_token, { refresh_token: b.refresh_token })).status).toBe(204);
    await within(1000, async () => !(await natsValid(a.access_token)) && !(await natsValid(b.access_token)));
    expect((await post('/api/v1/auth/refresh', { refresh_token: b.refresh_token })).status).toBe(401);
    expect(await natsValid(c.access_token)).toBe(true);
  });

  it('logout with a PAT deletes that PAT: refused on every replica at once, audited', async () => {
    const s = await login(stack);
    const admin = api(stack, s.access_token);
    const created = await admin.post('/api/v1/users/me/tokens', { name: 'logout-pat' });
    expect(created.status).toBe(201);
    const pat = created.body.token as string;
    expect(await restValid(pat)).toBe(true);
    const logout = () =>
      fetch(`${stack.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${pat}` } });
    expect((await logout()).status).toBe(204);
    const answers = await Promise.all(Array.from({ length: 20 }, () => natsValid(pat)));
    expect(answers.every((v) => v === false)).toBe(true);
    expect(await restValid(pat)).toBe(false);
    expect((await admin.get('/api/v1/users/me/tokens')).body.items).toEqual([]);
    const audit = await stack.query<{ actor: string; subject: string; data: { id: string } }>(
      `SELECT actor, subject, data FROM audit_events WHERE type = 'pat.deleted'`,
    );
    expect(audit).toEqual([
      { actor: s.userId, subject: s.userId, data: expect.objectContaining({ id: created.body.id }) },
    ]);
    // Deleted already: the same answer, nothing more deleted.
    expect((await logout()).status).toBe(204);
    expect(await stack.query(`SELECT 1 FROM audit_events WHERE type = 'pat.deleted'`)).toHaveLength(1);
    // The session that made the PAT is not the PAT's: it goes on.
    expect(await natsValid(s.access_token)).toBe(true);
  });

  it('logout with a bearer exchanged for an API key ends that bearer only: the key and its other bearers go on', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const pods = await admin.post('/api/v1/clients', { clientId: 'pods', roles: ['service'] });
    expect(pods.status).toBe(201);
    const key = (await admin.post('/api/v1/clients/pods/api-keys', { name: 'shared' })).body.apiKey as string;
    const exchange = async () =>
      (await readJson<{ access_token: string }>(await post('/api/v1/auth', { apiKey: key }))).access_token;
    const [podA, podB] = [await exchange(), await exchange()];
    const out = await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${podA}` },
    });
    expect(out.status).toBe(204);
    await within(1000, async () => !(await natsValid(podA)));
    expect(await restValid(podA)).toBe(false);
    const others = await Promise.all(Array.from({ length: 20 }, () => natsValid(podB)));
    expect(others.every((v) => v)).toBe(true);
    expect(await restValid(podB)).toBe(true);
    expect(await natsValid(await exchange())).toBe(true);

    // The same through RFC 7009's endpoint, by the key's client.
    const podC = await exchange();
    const revoked = await fetch(`${stack.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: podC, client_id: 'pods', client_secret: pods.body.client_secret }),
    });
    expect(revoked.status).toBe(200);
    await within(1000, async () => !(await natsValid(podC)));
    expect((await Promise.all(Array.from({ length: 20 }, () => natsValid(podB)))).every((v) => v)).toBe(true);
  });

  it('20 concurrent refreshes with one token: exactly one wins', async () => {
    const s = await login(stack);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => post('/api/v1/auth/refresh', { refresh_token: s.refresh_token })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((c) => c === 200)).toHaveLength(1);
    expect(statuses.filter((c) => c === 401)).toHaveLength(19);
  });

  it('wrong password and unknown user are indistinguishable', async () => {
    const wrong = await post('/api/v1/auth/login', { username: 'admin', password: 'definitely-wrong' });
    const unknown = await post('/api/v1/auth/login', { username: 'nobody-here', password: 'definitely-wrong' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(wrong.status);
    expect(await unknown.text()).toBe(await wrong.text());
  });

  it('the native API names a client either way: clientId/clientSecret or client_id/client_secret', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const made = await admin.post('/api/v1/clients', { clientId: 'kiosk', roles: ['service'] });
    expect(made.status).toBe(201);
    const secret = made.body.client_secret as string;
    const owner = { username: 'admin', password: stack.adminPassword };
    // Before: the login refused client_id/client_secret and the refresh clientId/clientSecret
    // (400 "property … should not exist"), so a session a client logged in with its secret under
    // one spelling could not be refreshed under the same one.
    for (const [asLogin, asRefresh] of [
      [
        { clientId: 'kiosk', clientSecret: secret },
        { clientId: 'kiosk', clientSecret: secret },
      ],
      [
        { client_id: 'kiosk', client_secret: secret },
        { client_id: 'kiosk', client_secret: secret },
      ],
    ]) {
      const signedIn = await post('/api/v1/auth/login', { ...owner, ...asLogin });
      expect({ asLogin, status: signedIn.status }).toEqual({ asLogin, status: 200 });
      const session = await readJson<SessionReply>(signedIn);
      expect((await api(stack, session.access_token).get('/api/v1/auth/me')).body).toMatchObject({
        cid: 'kiosk',
        rcid: 'kiosk',
      });
      const refreshed = await post('/api/v1/auth/refresh', { refresh_token: session.refresh_token, ...asRefresh });
      expect({ asRefresh, status: refreshed.status }).toEqual({ asRefresh, status: 200 });
    }
    // Both spellings with different values: refused, both named, nothing issued.
    const clash = await post('/api/v1/auth/login', { ...owner, clientId: 'kiosk', client_id: 'other' });
    expect(clash.status).toBe(400);
    const fields = (await readJson<FieldErrorEnvelope>(clash)).error.data.fields.map((f) => f.field);
    expect(fields).toEqual(['clientId', 'client_id']);
    // POST /tokens names its target client either way too.
    for (const target of [{ client_id: 'kiosk' }, { clientId: 'kiosk' }]) {
      const minted = await admin.post('/api/v1/tokens', { ...target, token_life: 60 });
      expect({ target, status: minted.status, cid: minted.body.cid }).toEqual({ target, status: 201, cid: 'kiosk' });
    }
    const twoTargets = await admin.post('/api/v1/tokens', { client_id: 'kiosk', clientId: 'other' });
    expect(twoTargets.status).toBe(400);
    expect(await stack.query(`SELECT 1 FROM access_tokens WHERE cid = 'other'`)).toHaveLength(0);
  });

  it('usernames are case-insensitive', async () => {
    const res = await post('/api/v1/auth/login', { username: 'ADMIN', password: stack.adminPassword });
    expect(res.status).toBe(200);
  });

  it('OAuth token endpoint: password grant (form and JSON) and refresh_token grant', async () => {
    const form = new URLSearchParams({ grant_type: 'password', username: 'admin', password: stack.adminPassword });
    const viaForm = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(viaForm.status).toBe(200);
    expect(viaForm.headers.get('cache-control')).toBe('no-store');
    const t = await readJson<SessionReply>(viaForm);
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 900, roles: ['admin'] });
    expect(await natsValid(t.access_token)).toBe(true);

    const viaJson = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    expect(viaJson.status).toBe(200);

    const bad = await post('/oauth/token', { grant_type: 'password', username: 'admin', password: 'nope-nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid username or password' });
    const replay = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    expect((await readJson<OAuthErrorReply>(replay)).error).toBe('invalid_grant');
    const unsupported = await post('/oauth/token', { grant_type: 'implicit' });
    expect(await unsupported.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const missing = await post('/oauth/token', { username: 'admin' });
    expect(missing.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(missing)).error).toBe('invalid_request');
  });

  it('publishes JWKS and discovery documents that match the tokens', async () => {
    const jwks = await readJson<JwksReply>(await get('/.well-known/jwks.json'));
    const s = await login(stack);
    const header = JSON.parse(Buffer.from(s.access_token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    expect(jwks.keys.every((k: Record<string, unknown>) => k.d === undefined)).toBe(true);
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const d = await readJson<DiscoveryReply>(await get(path));
      expect(d).toMatchObject({
        issuer: stack.issuer,
        token_endpoint: `${stack.issuer}/oauth/token`,
        jwks_uri: `${stack.issuer}/.well-known/jwks.json`,
      });
      expect(d.grant_types_supported).toEqual(expect.arrayContaining(['password', 'refresh_token']));
    }
  });

  it('status, health and docs answer', async () => {
    const status = await (await get('/api/v1/status')).json();
    expect(status).toMatchObject({
      name: 'portcullis',
      auth_provider_initialized: true,
      auth_db_initialized: true,
      nats: { state: 'connected' },
      // The apps run as `node dist/…`, where npm's environment is not: the version is package.json's.
      version: (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version,
    });
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
    const doc = await readJson<OpenApiDoc>(await get('/docs-json'));
    // Every listing documents the paging it takes (inherited from PageQueryDto).
    for (const listing of ['/api/v1/users', '/api/v1/clients', '/api/v1/audit', '/api/v1/users/me/tokens'])
      expect({
        listing,
        query: (doc.paths[listing].get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      }).toEqual({ listing, query: expect.arrayContaining(['limit', 'cursor']) });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/login',
        '/api/v1/auth/validate',
        '/oauth/token',
        '/health/live',
        '/health/ready',
        '/metrics',
      ]),
    );
    expect(undocumentedReplies(doc)).toEqual([]);
    // Spot checks that the documented shapes are the ones the routes answer (SPEC §4).
    const tokens = replySchema(doc, 'get', '/api/v1/tokens');
    expect(tokens.required).toEqual(expect.arrayContaining(['items', 'nextCursor']));
    expect(tokens.properties?.nextCursor).toMatchObject({ type: 'string', nullable: true });
    expect(Object.keys(resolve(doc, tokens.properties?.items?.items).properties ?? {})).toEqual(
      expect.arrayContaining(['tid', 'cid', 'rcid', 'r', 'cts', 'ets', 'typ', 'revoked']),
    );
    expect(Object.keys(replySchema(doc, 'post', '/oauth/token').properties ?? {})).toEqual(
      expect.arrayContaining(['access_token', 'token_type', 'expires_in', 'refresh_token', 'roles']),
    );
    expect(Object.keys(replySchema(doc, 'get', '/.well-known/openid-configuration').properties ?? {})).toEqual(
      expect.arrayContaining(['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported']),
    );
    expect(Object.keys(replySchema(doc, 'get', '/api/v1/status').properties ?? {})).toEqual(
      expect.arrayContaining(['name', 'version', 'auth_provider_initialized', 'auth_db_initialized', 'nats']),
    );
    const pats = replySchema(doc, 'get', '/api/v1/users/me/tokens');
    expect(Object.keys(resolve(doc, pats.properties?.items?.items).properties ?? {})).not.toContain('token');
    expect(doc.paths['/oauth/revoke'].post.responses['200']).toEqual({ description: expect.stringMatching(/empty/) });
    // OAuth errors are documented in their RFC 6749 form, a failed client authentication included.
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke'])
      expect({ path, schema: doc.paths[path].post.responses['401']?.content?.['application/json']?.schema }).toEqual({
        path,
        schema: { $ref: '#/components/schemas/OAuthError' },
      });
    expect((await get('/docs')).status).toBe(200);
    expect(await (await get('/metrics')).text()).toContain('portcullis_gateway_http_request_duration_seconds');
  });

  it('stores no secret in clear: refresh tokens hashed, signing keys encrypted, admin password argon2id', async () => {
    const s = await login(stack);
    const rows = await stack.query<{ hex: string }>(`SELECT encode(token_hash, 'hex') AS hex FROM refresh_tokens`);
    expect(rows.some((r) => r.hex.includes(Buffer.from(s.refresh_token).toString('hex')))).toBe(false);
    const [user] = await stack.query<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE username = 'admin'`,
    );
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const [key] = await stack.query<{ hex: string }>(
      `SELECT encode(private_key_enc, 'hex') AS hex FROM signing_keys LIMIT 1`,
    );
    expect(key.hex.length).toBeGreaterThan(200);
    expect(key.hex).not.toContain(Buffer.from('PRIVATE KEY').toString('hex'));
    expect(stack.logs()).not.toContain(stack.adminPassword);
    expect(stack.logs()).not.toContain(s.refresh_token);
  });
});

type Schema = {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
};
type Operation = {
  parameters?: Array<{ in: string; name: string }>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
};
type OpenApiDoc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

/** Success without a body by design: RFC 7009's empty 200 and the Prometheus text. */
const NO_BODY = ['POST /oauth/revoke', 'GET /metrics'];

const resolve = (doc: OpenApiDoc, s: Schema | undefined): Schema =>
  s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : (s ?? {});

/** Says what the body holds: a named schema, an object with properties, a scalar, or an array of one. */
const describes = (s: Schema | undefined): boolean =>
  !!s &&
  (!!s.$ref ||
    (s.type === 'array' ? describes(s.items) : s.type !== undefined && (s.type !== 'object' || !!s.properties)));

/** `METHOD /path` of each operation answering a body on success (not 204) with no documented shape. */
function undocumentedReplies(doc: OpenApiDoc): string[] {
  const missing: string[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      const key = `${method.toUpperCase()} ${path}`;
      const success = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code) && code !== '204');
      if (NO_BODY.includes(key) || (!success.length && '204' in op.responses)) continue;
      const documented = success.some(([, r]) => Object.values(r.content ?? {}).some((c) => describes(c.schema)));
      if (!documented) missing.push(key);
    }
  return missing.sort();
}

/** The (resolved) schema of an operation's success reply. */
function replySchema(doc: OpenApiDoc, method: string, path: string): Schema {
  const [, reply] = Object.entries(doc.paths[path][method].responses).find(([code]) => /^2/.test(code))!;
  return resolve(doc, reply.content?.['application/json']?.schema);
}
