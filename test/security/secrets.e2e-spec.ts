import { randomBytes } from 'node:crypto';
import { ClientWithSecret, IntrospectionReply, SUBJECTS } from '@portcullis/contracts';
import { api, inDays, OAuthTokenReply, readJson, SessionReply } from '../support/fixtures';
import { SuiteReport } from '../support/report';
import { dumpDatabase, dumpEvents, findSecretLeaks } from '../support/secrets';
import { login, Stack } from '../support/stack';

/**
 * SPEC §7: secrets are never stored or logged in clear. Every way a secret enters or leaves the
 * system is exercised once — passwords (create, login over REST/OAuth/NATS, wrong attempts, change,
 * admin reset), client secrets (create, rotate, both client auth methods, a wrong one,
 * self-registration), refresh tokens (issue, rotate, replay), PATs (create, use, list, delete by
 * value and name) and API keys (issue, exchange, delete) — with both apps logging at debug level.
 * Then the captured logs of every process, every text/bytea/json column of every table and every
 * event left in the JetStream stream are searched for each value (clear, hex, base64).
 */

const report = new SuiteReport(
  'security/secrets',
  'Secrets never stored or logged in clear',
  'test/security/secrets.e2e-spec.ts',
);
const REGISTRATION_TOKEN = `reg-${randomBytes(16).toString('hex')}`;
const stack = new Stack({
  replicas: 2,
  env: { LOG_LEVEL: 'debug', CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN },
  gatewayEnv: { LOG_LEVEL: 'debug', LOGIN_FAILURES_PER_IP: '1000' },
});
const secrets: Record<string, string> = {};

beforeAll(() => stack.start(), 90000);
afterAll(async () => {
  await stack.stop();
  report.write();
}, 60000);

/** The body of every refusal (4xx/5xx) an error-path request got: none may repeat a secret it was sent. */
const refusals: Array<{ where: string; value: string }> = [];
async function send(path: string, init: RequestInit): Promise<Response> {
  const res = await fetch(`${stack.url}${path}`, init);
  if (res.status < 400) return res;
  const text = await res.text();
  refusals.push({ where: `${res.status} answer of ${init.method ?? 'GET'} ${path}`, value: text });
  // Its body was read for the record; the caller gets an equal response to read again.
  return new Response(text, { status: res.status, headers: res.headers });
}
const json = (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
  send(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
const secret = (label: string) => (secrets[label] = `${label.replace(/\W+/g, '-')}-${randomBytes(9).toString('hex')}`);
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

const fetchRecorded = (path: string, headers: Record<string, string>, method = 'GET') =>
  send(path, { method, headers });

/** Every entry GET /api/v1/audit shows, page by page. */
async function auditPages(admin: ReturnType<typeof api>): Promise<Array<{ where: string; value: string }>> {
  const out: Array<{ where: string; value: string }> = [];
  let cursor: string | null = null;
  do {
    const page = await admin.get(`/api/v1/audit?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    for (const item of page.body.items) out.push({ where: `GET /audit ${item.type}`, value: JSON.stringify(item) });
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

describe('every secret-handling flow, at debug log level', () => {
  let admin: ReturnType<typeof api>;
  let aliceId = '';

  it('passwords: create, log in (REST, OAuth, NATS), fail, change, reset', async () => {
    report.case('passwords: create, login REST/OAuth/NATS, wrong attempts, change, admin reset');
    secrets['admin password'] = stack.adminPassword;
    admin = api(stack, (await login(stack)).access_token);
    secrets['alice password 1'] = `Alice-pw-1-${randomBytes(8).toString('hex')}`;
    secrets['alice password 2'] = `Alice-pw-2-${randomBytes(8).toString('hex')}`;
    secrets['alice password 3'] = `Alice-pw-3-${randomBytes(8).toString('hex')}`;
    secrets['a wrong password'] = `Wrong-pw-${randomBytes(8).toString('hex')}`;
    const created = await admin.post('/api/v1/users', { username: 'alice', password: secrets['alice password 1'] });
    expect(created.status).toBe(201);
    aliceId = created.body.id;
    const s1 = await login(stack, 'alice', secrets['alice password 1']);
    secrets['refresh token (REST login)'] = s1.refresh_token;
    const oauth = await readJson<SessionReply>(
      await form('/oauth/token', { grant_type: 'password', username: 'alice', password: secrets['alice password 1'] }),
    );
    secrets['refresh token (OAuth password grant)'] = oauth.refresh_token;
    const nats = await stack.natsRequest<{ refresh_token: string }>(SUBJECTS.LOGIN, {
      username: 'alice',
      password: secrets['alice password 1'],
    });
    secrets['refresh token (NATS login)'] = nats.refresh_token;
    expect(
      (await json('/api/v1/auth/login', { username: 'alice', password: secrets['a wrong password'] })).status,
    ).toBe(401);
    expect(
      (await json('/api/v1/auth/login', { username: 'nobody', password: secrets['a wrong password'] })).status,
    ).toBe(401);
    const alice = api(stack, s1.access_token);
    const changed = await alice.put('/api/v1/users/me/password', {
      currentPassword: secrets['alice password 1'],
      newPassword: secrets['alice password 2'],
    });
    expect(changed.status).toBe(204);
    const wrongChange = await api(stack, (await login(stack, 'alice', secrets['alice password 2'])).access_token).put(
      '/api/v1/users/me/password',
      { currentPassword: secrets['a wrong password'], newPassword: secrets['alice password 3'] },
    );
    expect(wrongChange.status).toBe(403);
    expect((await admin.patch(`/api/v1/users/${aliceId}`, { password: secrets['alice password 3'] })).status).toBe(200);
    expect((await login(stack, 'alice', secrets['alice password 3'])).access_token).toBeTruthy();
    report.requests('password flows', 10);
  });

  it('refresh tokens: rotate (REST, OAuth, NATS) and replay', async () => {
    report.case('refresh tokens: rotate REST/OAuth/NATS, replay');
    const s = await login(stack, 'alice', secrets['alice password 3']);
    secrets['refresh token r1'] = s.refresh_token;
    const r2 = await readJson<SessionReply>(await json('/api/v1/auth/refresh', { refresh_token: s.refresh_token }));
    secrets['refresh token r2'] = r2.refresh_token;
    const r3 = await readJson<SessionReply>(
      await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: r2.refresh_token }),
    );
    secrets['refresh token r3'] = r3.refresh_token;
    const r4 = await stack.natsRequest<{ refresh_token: string }>(SUBJECTS.TOKEN_REFRESH, {
      refresh_token: r3.refresh_token,
    });
    secrets['refresh token r4'] = r4.refresh_token;
    expect((await json('/api/v1/auth/refresh', { refresh_token: s.refresh_token })).status).toBe(401);
    report.requests('refresh flows', 6);
  });

  it('client secrets: create, rotate, Basic and post, a wrong one, introspect and revoke, self-registration', async () => {
    report.case(
      'client secrets: create, rotate, client_secret_basic/post, wrong secret, introspect/revoke, registration',
    );
    secrets['registration token'] = REGISTRATION_TOKEN;
    const c = await admin.post('/api/v1/clients', { clientId: 'billing', roles: ['service'] });
    secrets['client secret (created)'] = c.body.client_secret;
    const rotated = await admin.patch('/api/v1/clients/billing', { rotateSecret: true });
    secrets['client secret (rotated)'] = rotated.body.client_secret;
    expect(secrets['client secret (rotated)']).not.toBe(secrets['client secret (created)']);
    const viaBasic = await form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic('billing', rotated.body.client_secret),
    );
    expect(viaBasic.status).toBe(200);
    const token = (await readJson<OAuthTokenReply>(viaBasic)).access_token;
    const viaPost = await form('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'billing',
      client_secret: rotated.body.client_secret,
    });
    expect(viaPost.status).toBe(200);
    secrets['a wrong client secret'] = `pcl_cs_${randomBytes(32).toString('base64url')}`;
    const wrong = await form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic('billing', secrets['a wrong client secret']),
    );
    expect(wrong.status).toBe(401);
    const old = await form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic('billing', c.body.client_secret),
    );
    expect(old.status).toBe(401);
    expect(
      (
        await readJson<IntrospectionReply>(
          await form('/oauth/introspect', { token }, basic('billing', rotated.body.client_secret)),
        )
      ).active,
    ).toBe(true);
    expect((await form('/oauth/revoke', { token }, basic('billing', rotated.body.client_secret))).status).toBe(200);
    const reg = await json(
      '/api/v1/clients/register',
      { clientId: 'self-made' },
      { authorization: `Bearer ${REGISTRATION_TOKEN}` },
    );
    expect(reg.status).toBe(201);
    secrets['client secret (self-registered)'] = (await readJson<ClientWithSecret>(reg)).client_secret;
    report.requests('client secret flows', 9);
  });

  it('PATs: create (self and by admin), use as bearer (REST, NATS), list, delete by value and by name', async () => {
    report.case('PATs: create, use REST/NATS, list, delete by value and by name');
    const alice = api(stack, (await login(stack, 'alice', secrets['alice password 3'])).access_token);
    const body = (name: string) => ({ name, expiresAt: inDays(7), permissions: ['tokens:read'], tenants: [] });
    const p1 = await alice.post('/api/v1/users/me/tokens', body('ci'));
    const p2 = await alice.post('/api/v1/users/me/tokens', body('laptop'));
    const p3 = await admin.post(`/api/v1/users/${aliceId}/tokens`, body('by-admin'));
    expect([p1.status, p2.status, p3.status]).toEqual([201, 201, 201]);
    Object.assign(secrets, { 'PAT 1': p1.body.token, 'PAT 2': p2.body.token, 'PAT 3 (by admin)': p3.body.token });
    expect((await api(stack, p1.body.token).get('/api/v1/auth/me')).status).toBe(200);
    expect((await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: p1.body.token })).valid).toBe(
      true,
    );
    expect((await alice.get('/api/v1/users/me/tokens')).status).toBe(200);
    expect((await alice.del(`/api/v1/users/me/tokens/${encodeURIComponent(p1.body.token)}`)).status).toBe(204);
    expect((await alice.del('/api/v1/users/me/tokens/laptop')).status).toBe(204);
    const dead = api(stack, p1.body.token);
    expect((await dead.get('/api/v1/auth/me')).status).toBe(401);
    report.requests('PAT flows', 9);
  });

  it('API keys: issue, exchange, list, delete, and a mistyped one', async () => {
    report.case('API keys: issue, exchange, list, delete, mistyped key');
    const k = await admin.post('/api/v1/clients/billing/api-keys', { name: 'deploy' });
    expect(k.status).toBe(201);
    secrets['API key'] = k.body.apiKey;
    const ex = await json('/api/v1/auth', { apiKey: k.body.apiKey });
    expect(ex.status).toBe(200);
    secrets['a mistyped API key'] = `${k.body.apiKey.slice(0, -3)}zzz`;
    expect((await json('/api/v1/auth', { apiKey: secrets['a mistyped API key'] })).status).toBe(401);
    expect((await admin.get('/api/v1/clients/billing/api-keys')).status).toBe(200);
    expect((await admin.del(`/api/v1/clients/billing/api-keys/${k.body.id}`)).status).toBe(204);
    expect((await json('/api/v1/auth', { apiKey: k.body.apiKey })).status).toBe(401);
    report.requests('API key flows', 6);
  });

  it('error paths: refused input carrying a secret (malformed, too long, wrong type, wrong value)', async () => {
    report.case('error paths: malformed/too long/wrong secrets on every secret-bearing route');
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const session = await login(stack, 'alice', secrets['alice password 3']);
    secrets['access token (alice)'] = session.access_token;
    const adminToken = (await login(stack)).access_token;
    secrets['access token (admin)'] = adminToken;
    const statuses: number[] = [];
    const keep = async (r: Promise<Response>) => statuses.push((await r).status);
    // Login: unparsable JSON, a password too long, of the wrong type, beside an unknown field.
    await keep(json('/api/v1/auth/login', `{"username":"alice","password":"${secret('password in broken JSON')}`));
    await keep(
      json('/api/v1/auth/login', { username: 'alice', password: secret('too long password') + 'x'.repeat(1100) }),
    );
    await keep(json('/api/v1/auth/login', { username: 'alice', password: [secret('password in an array')] }));
    await keep(json('/api/v1/auth/login', { username: 'alice', password: secret('password beside junk'), junk: 1 }));
    await keep(
      form('/oauth/token', {
        grant_type: 'password',
        username: 'alice',
        password: secret('oauth password, no such user') + 'x'.repeat(1100),
      }),
    );
    // Password change and reset with refused new passwords.
    await keep(
      json(
        '/api/v1/users/me/password',
        { currentPassword: secret('current password (wrong)'), newPassword: `${randomBytes(4).toString('hex')}abc` },
        bearer(session.access_token),
        'PUT',
      ),
    );
    await keep(
      json(
        `/api/v1/users/${aliceId}`,
        { password: secret('reset password too long') + 'x'.repeat(1100) },
        bearer(adminToken),
        'PATCH',
      ),
    );
    await keep(
      json(
        `/api/v1/users/${aliceId}`,
        { password: secret('reset password beside junk'), junk: true },
        bearer(adminToken),
        'PATCH',
      ),
    );
    await keep(
      json(
        '/api/v1/users',
        { username: 'carol', password: [secret('create password, wrong type')] },
        bearer(adminToken),
      ),
    );
    // Refresh, logout, API key exchange with unknown or malformed values.
    await keep(json('/api/v1/auth/refresh', { refresh_token: `pcl_rt_${secret('unknown refresh token')}` }));
    await keep(json('/api/v1/auth/refresh', { refresh_token: secret('refresh token too long') + 'x'.repeat(2000) }));
    await keep(
      json(
        '/api/v1/auth/logout',
        { refresh_token: `pcl_rt_${secret('logout foreign refresh token')}` },
        bearer(session.access_token),
      ),
    );
    await keep(json('/api/v1/auth', { apiKey: `pcl_key_${secret('malformed API key')}` }));
    await keep(json('/api/v1/auth', { apiKey: secret('API key too long') + 'x'.repeat(600) }));
    // Client authentication: a too long secret, malformed Basic credentials, wrong secrets by post.
    await keep(
      form('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'billing',
        client_secret: secret('client secret too long') + 'x'.repeat(2000),
      }),
    );
    await keep(
      form(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: `Basic ${secret('Basic not base64')}!!` },
      ),
    );
    await keep(
      form('/oauth/token', { grant_type: 'client_credentials' }, basic('billing', secret('Basic wrong secret'))),
    );
    await keep(
      form('/oauth/introspect', {
        token: session.access_token,
        client_id: 'billing',
        client_secret: secret('introspect wrong secret (post)'),
      }),
    );
    await keep(
      form('/oauth/revoke', {
        token: session.access_token,
        client_id: 'billing',
        client_secret: secret('revoke wrong secret (post)'),
      }),
    );
    // Token exchange: an unknown API key and a malformed ID token as subject tokens.
    const exchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
    await keep(
      form('/oauth/token', {
        grant_type: exchange,
        subject_token: `pcl_key_${secret('exchanged unknown API key')}`,
        subject_token_type: 'urn:portcullis:params:oauth:token-type:api-key',
      }),
    );
    await keep(
      form('/oauth/token', {
        grant_type: exchange,
        subject_token: secret('exchanged malformed ID token'),
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      }),
    );
    await keep(json('/api/v1/auth/oidc/login', { idToken: secret('malformed ID token') }));
    // Bearers: an unknown PAT, a registration token that is wrong, validation of garbage.
    await keep(fetchRecorded('/api/v1/auth/me', bearer(`pcl_pat_${secret('unknown PAT as bearer')}`)));
    await keep(json('/api/v1/clients/register', { clientId: 'nope' }, bearer(secret('wrong registration token'))));
    await keep(json('/api/v1/auth/validate', { token: secret('validated garbage') }, bearer(session.access_token)));
    await keep(
      fetchRecorded(
        `/api/v1/users/me/tokens/${encodeURIComponent(`pcl_pat_${secret('deleted unknown PAT')}`)}`,
        bearer(session.access_token),
        'DELETE',
      ),
    );
    // A client create that tries to choose its own secret.
    await keep(
      json(
        '/api/v1/clients',
        { clientId: 'chooser', client_secret: secret('client secret chosen by caller') },
        bearer(adminToken),
      ),
    );
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    report.requests('error-path requests', statuses.length);
  });

  it('none of them appears in clear in any log, any column of any table or any event', async () => {
    secrets['MASTER_KEY'] = stack.masterKey;
    report.figure('secret values searched for', Object.keys(secrets).length);
    const db = await dumpDatabase(stack);
    const events = await dumpEvents(stack);
    report.figure('database values searched', db.length);
    report.figure('events searched', events.length);
    report.figure('log bytes searched', stack.logs().length);
    expect(db.length).toBeGreaterThan(50);
    expect(events.length).toBeGreaterThan(10);
    const audit = await auditPages(api(stack, (await login(stack)).access_token));
    report.figure('audit entries searched', audit.length);
    report.figure('refusals searched', refusals.length);
    expect(audit.length).toBeGreaterThan(20);
    const leaks = await findSecretLeaks(stack, secrets, [...refusals, ...audit]);
    for (const l of leaks) report.error(`${l.secret} in clear in ${l.where}`);
    expect(leaks).toEqual([]);
  });

  it('the search finds a secret that is there (control)', async () => {
    const planted = `planted-${randomBytes(12).toString('hex')}`;
    await stack.query(`UPDATE clients SET description = $1 WHERE client_id = 'billing'`, [planted]);
    const leaks = await findSecretLeaks(stack, { planted });
    expect(leaks.map((l) => l.where)).toContain('db clients.description');
  });
});
