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

const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

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
    const leaks = await findSecretLeaks(stack, secrets);
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
