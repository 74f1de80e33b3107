import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { SUBJECTS } from '@portcullis/contracts';
import { api, OAuthTokenReply, readJson } from '../support/fixtures';
import { AUTH_CORE_MAIN, freePort, login, spawnApp, Stack } from '../support/stack';
import { SigningKey, TestIdp } from '../support/test-idp';

/**
 * Sign-in with an external OpenID Connect IdP (issue #6), against real IdP servers on loopback
 * ports (one answering, one hung, one address where nothing listens).
 */

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('OIDC federation: sign-in with an external ID token (issue #6)', () => {
  let acme: TestIdp;
  let slow: TestIdp;
  let globexIssuer: string;
  let stack: Stack;
  let k1: SigningKey;
  let admin: ReturnType<typeof api>;

  const oidcLogin = (body: Record<string, unknown>) => api(stack).post('/api/v1/auth/oidc/login', body);
  const exchange = (subjectToken: string) =>
    fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      }),
    });
  const validate = (token: string) =>
    stack.natsRequest<{ valid: boolean; claims?: Record<string, unknown> }>(SUBJECTS.TOKEN_VALIDATE, { token });
  const userBySub = async (sub: string) =>
    (
      await stack.query<{ id: string; username: string; roles: string[]; tenants: string[]; source: string }>(
        `SELECT id, username, roles, tenants, source FROM users WHERE external_subject = $1`,
        [`${acme.issuer}#${sub}`],
      )
    )[0];

  beforeAll(async () => {
    acme = await new TestIdp(await freePort()).start();
    slow = await new TestIdp(await freePort(), false).start();
    globexIssuer = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    k1 = await acme.newKey('RS256');
    const providers = [
      {
        name: 'acme',
        issuer: acme.issuer,
        clientId: 'portcullis-web',
        baseUrl: `${acme.issuer}/authorize`,
        rolesClaim: 'groups',
        mapRoles: { engineering: ['service'], 'platform-admins': 'admin' },
        defaultRoles: ['user'],
        tenantsClaim: 'tenants',
        allowedAlgorithms: ['RS256', 'ES256'],
      },
      { name: 'globex', issuer: globexIssuer, clientId: 'globex-client', audience: 'api://portcullis' },
      { name: 'slowco', issuer: slow.issuer, clientId: 'slow-client' },
    ];
    stack = await new Stack({
      env: {
        OIDC_PROVIDERS: JSON.stringify(providers),
        OIDC_HTTP_TIMEOUT_MS: '1000',
        OIDC_JWKS_COOLDOWN_SECONDS: '0',
      },
    }).start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([acme?.stop(), slow?.stop()]);
  }, 60000);

  it('publishes each provider for a sign-in page, and nothing secret nor its role mapping', async () => {
    const r = await api(stack).get('/api/v1/auth/oidc/config');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      {
        name: 'acme',
        baseUrl: `${acme.issuer}/authorize`,
        clientId: 'portcullis-web',
        issuer: acme.issuer,
        audience: 'portcullis-web',
      },
      {
        name: 'globex',
        baseUrl: globexIssuer,
        clientId: 'globex-client',
        issuer: globexIssuer,
        audience: 'api://portcullis',
      },
      {
        name: 'slowco',
        baseUrl: slow.issuer,
        clientId: 'slow-client',
        issuer: slow.issuer,
        audience: 'slow-client',
      },
    ]);
    expect(JSON.stringify(r.body)).not.toMatch(/secret|private|"d"|MASTER/i);
    // Nor which IdP group is made an administrator here: the route is anonymous.
    expect(JSON.stringify(r.body)).not.toMatch(/mapRoles|platform-admins|engineering|rolesClaim|defaultRoles/);
    const doc = (await (await fetch(`${stack.url}/docs-json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(Object.keys(doc.components.schemas.OidcProviderDto.properties).sort()).toEqual(
      ['audience', 'baseUrl', 'clientId', 'issuer', 'name'].sort(),
    );
  });

  it('signs in with group mapping, provisions a source:oidc user keyed by iss+sub, updates it next time', async () => {
    const first = await oidcLogin({
      idToken: await acme.idToken(k1, { groups: ['engineering', 'admin', 'unmapped'], tenants: ['t1', '*'] }),
    });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(
      [
        'access_token',
        'token_type',
        'expires_in',
        'refresh_token',
        'roles',
        'tid',
        'userId',
        'passwordWasNeverChanged',
      ].sort(),
    );
    expect(first.body).toMatchObject({
      token_type: 'Bearer',
      roles: ['service', 'user'],
      passwordWasNeverChanged: false,
    });
    const user = await userBySub('alice-sub');
    expect(user).toMatchObject({ id: first.body.userId, source: 'oidc', username: 'acme:alice-sub', tenants: ['t1'] });
    const v = await validate(first.body.access_token);
    expect(v.valid).toBe(true);
    expect(v.claims).toMatchObject({
      sub: first.body.userId,
      typ: 'user',
      roles: ['service', 'user'],
      tenants: ['t1'],
    });
    const me = await api(stack, first.body.access_token).get('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect((await api(stack).post('/api/v1/auth/refresh', { refresh_token: first.body.refresh_token })).status).toBe(
      200,
    );

    const second = await oidcLogin({ idToken: await acme.idToken(k1, { groups: ['platform-admins'] }) });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ userId: first.body.userId, roles: ['admin', 'user'] });
    expect((await userBySub('alice-sub')).roles).toEqual(['admin', 'user']);

    // The same email at another subject is another person, never the same account.
    const other = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'mallory-sub' }), provider: 'acme' });
    expect(other.status).toBe(200);
    expect(other.body.userId).not.toBe(first.body.userId);
    expect(other.body.roles).toEqual(['user']);

    const audit = await stack.query<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM audit_events WHERE type IN ('oidc.login.succeeded', 'user.created') GROUP BY type ORDER BY type`,
    );
    expect(audit).toEqual([
      { type: 'oidc.login.succeeded', n: '3' },
      { type: 'user.created', n: '2' },
    ]);
  });

  it('checks the nonce when one is given', async () => {
    const idToken = await acme.idToken(k1, { nonce: 'n-123' });
    expect((await oidcLogin({ idToken, nonce: 'n-123' })).status).toBe(200);
    const bad = await oidcLogin({ idToken, nonce: 'n-456' });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toBe('ID token nonce does not match');
  });

  it.each([
    ['a wrong audience', { aud: 'someone-else' }, {}, 'ID token audience does not include the configured client'],
    ['an expired token', {}, { iat: Math.floor(Date.now() / 1000) - 600, expIn: 300 }, 'ID token has expired'],
    [
      'a token issued in the future',
      {},
      { iat: Math.floor(Date.now() / 1000) + 600 },
      'ID token is issued in the future',
    ],
    ['an unknown issuer', { iss: 'https://evil.example' }, {}, 'ID token issuer is not a configured identity provider'],
  ])('refuses %s', async (_what, claims, opts, message) => {
    const r = await oidcLogin({ idToken: await acme.idToken(k1, claims, opts) });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ status: 'UNAUTHENTICATED', message });
  });

  it('refuses a token of one issuer presented for another provider, and an unknown provider', async () => {
    const r = await oidcLogin({ idToken: await acme.idToken(k1, { iss: 'https://evil.example' }), provider: 'acme' });
    expect(r.status).toBe(401);
    expect(r.body.message).toBe('ID token issuer does not match provider acme');
    const unknown = await oidcLogin({ idToken: await acme.idToken(k1), provider: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.data.fields[0].field).toBe('provider');
    expect((await oidcLogin({})).body.error.data.fields[0].field).toBe('idToken');
  });

  it('refuses a token signed by a key the IdP does not publish, alg:none and HMAC', async () => {
    const rogueSameKid = await acme.newKey('RS256', false, k1.kid);
    const r1 = await oidcLogin({ idToken: await acme.idToken(rogueSameKid) });
    expect(r1.status).toBe(401);
    expect(r1.body.message).toBe('ID token signature is invalid');
    const rogue = await acme.newKey('ES256', false);
    const r2 = await oidcLogin({ idToken: await acme.idToken(rogue) });
    expect(r2.status).toBe(401);
    expect(r2.body.message).toBe('ID token is signed by a key acme does not publish');

    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: acme.issuer, aud: 'portcullis-web', sub: 'alice-sub', iat: now, exp: now + 300 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const r3 = await oidcLogin({ idToken: none });
    expect(r3.status).toBe(401);
    expect(r3.body.message).toBe('ID token algorithm none is not allowed');
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: k1.kid })
      .sign(new TextEncoder().encode('portcullis-web-client-secret-xx'));
    expect((await oidcLogin({ idToken: hs })).body.message).toBe('ID token algorithm HS256 is not allowed');
    const failures = await stack.query<{ reason: string }>(
      `SELECT data->>'reason' AS reason FROM audit_events WHERE type = 'oidc.login.failed' AND success = false`,
    );
    expect(failures.map((f) => f.reason)).toEqual(expect.arrayContaining(['signature', 'unknown_key', 'algorithm']));
  });

  it('picks up a key rotation at the IdP (new kid) and drops the retired key', async () => {
    const k2 = await acme.newKey('ES256');
    acme.published = [k2.jwk];
    const r = await oidcLogin({ idToken: await acme.idToken(k2) });
    expect(r.status).toBe(200);
    expect(acme.requests.filter((u) => u === '/jwks').length).toBeGreaterThanOrEqual(2);
    const old = await oidcLogin({ idToken: await acme.idToken(k1) });
    expect(old.status).toBe(401);
    acme.published = [k1.jwk, k2.jwk];
  });

  it('refuses a user an administrator disabled, whatever the IdP says', async () => {
    const token = await acme.idToken(k1, { sub: 'dave-sub' });
    const first = await oidcLogin({ idToken: token });
    expect(first.status).toBe(200);
    expect((await admin.patch(`/api/v1/users/${first.body.userId}`, { enabled: false })).status).toBe(200);
    const r = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'dave-sub', groups: ['platform-admins'] }) });
    expect(r.status).toBe(401);
    expect((await userBySub('dave-sub')).roles).toEqual(['user']);
  });

  it('signs in through RFC 8693 token exchange with an ID token', async () => {
    const res = await exchange(await acme.idToken(k1, { groups: ['engineering'] }));
    expect(res.status).toBe(200);
    const body = await readJson<OAuthTokenReply>(res);
    expect(body).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect((await validate(body.access_token)).claims).toMatchObject({ roles: ['service', 'user'] });
  });

  it.each([
    [
      'a wrong audience',
      () => acme.idToken(k1, { aud: 'someone-else' }),
      'ID token audience does not include the configured client',
    ],
    [
      'an unknown issuer',
      () => acme.idToken(k1, { iss: 'https://evil.example' }),
      'ID token issuer is not a configured identity provider',
    ],
    ['a token too short to be one', async () => 'eyJhbGciOi', 'Invalid request: subject_token'],
    ['a token that is no JWT', async () => 'x'.repeat(64), 'ID token is malformed'],
  ])(
    'refuses %s in a token exchange as invalid_request (RFC 8693 §2.2.2)',
    async (_what, subjectToken, description) => {
      const res = await exchange(await subjectToken());
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: description });
    },
  );

  it('refuses the ID token of a disabled user, or of one whose username is taken, in a token exchange as invalid_request', async () => {
    const first = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'erin-sub' }) });
    expect(first.status).toBe(200);
    expect((await admin.patch(`/api/v1/users/${first.body.userId}`, { enabled: false })).status).toBe(200);
    const disabled = await exchange(await acme.idToken(k1, { sub: 'erin-sub' }));
    expect(disabled.status).toBe(400);
    expect(await disabled.json()).toEqual({ error: 'invalid_request', error_description: 'User is disabled' });

    // Usernames are unique whatever their case: another subject differing only in case cannot have one.
    expect((await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'Frank-sub' }) })).status).toBe(200);
    const native = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'frank-sub' }) });
    expect(native.status).toBe(409);
    const taken = await exchange(await acme.idToken(k1, { sub: 'frank-sub' }));
    expect(taken.status).toBe(400);
    expect(await taken.json()).toEqual({ error: 'invalid_request', error_description: native.body.message });
  });

  it('answers 503 naming the provider when its keys are not cached and it is down or hangs', async () => {
    const globex = await acme.newKey('RS256', false);
    const token = await acme.idToken(globex, { iss: globexIssuer, aud: 'api://portcullis' });
    const down = await oidcLogin({ idToken: token });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'UNAVAILABLE' });
    expect(down.body.message).toMatch(/^Identity provider globex is unavailable: cannot be reached/);
    const viaExchange = await exchange(token);
    expect(viaExchange.status).toBe(503);
    expect(await viaExchange.json()).toMatchObject({ error: 'temporarily_unavailable' });

    const started = Date.now();
    const hung = await oidcLogin({ idToken: await acme.idToken(globex, { iss: slow.issuer, aud: 'slow-client' }) });
    expect(hung.status).toBe(503);
    expect(hung.body.message).toBe('Identity provider slowco is unavailable: no answer within 1000 ms');
    expect(Date.now() - started).toBeLessThan(2900);
    const [row] = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE type = 'oidc.login.failed' AND data->>'reason' = 'provider_unavailable'`,
    );
    expect(Number(row.n)).toBeGreaterThanOrEqual(3);
  });

  it('keeps signing in with cached keys while the IdP is down', async () => {
    await acme.stop();
    const r = await oidcLogin({ idToken: await acme.idToken(k1, { sub: `late-${randomUUID()}` }) });
    expect(r.status).toBe(200);
  });

  it('refuses to start with a bad OIDC_PROVIDERS, naming it', async () => {
    const proc = spawnApp('auth-core-bad-oidc', AUTH_CORE_MAIN, {
      ...stack.coreEnv(await freePort()),
      OIDC_PROVIDERS: JSON.stringify([{ name: 'x', issuer: 'https://x', clientId: 'c', allowedAlgorithms: ['none'] }]),
    });
    const timer = setTimeout(() => void proc.stop('SIGKILL'), 15000);
    const code = await proc.waitForExit();
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(proc.logs()).toMatch(/OIDC_PROVIDERS: OIDC_PROVIDERS\[0\] \(x\): allowedAlgorithms may only hold/);
  });
});
