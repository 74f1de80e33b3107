import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { api } from '../support/fixtures';
import { freePort, login, Stack } from '../support/stack';
import { SigningKey, TestIdp } from '../support/test-idp';

/**
 * An adversary against external IdP sign-in: ID tokens meant for another relying party, and a
 * federated account reached around its IdP. Real IdP servers on loopback ports.
 */
describe('OIDC federation under attack', () => {
  let acme: TestIdp;
  let beta: TestIdp;
  let junk: TestIdp;
  let drip: TestIdp;
  let weak: TestIdp;
  let stack: Stack;
  let k1: SigningKey;
  let kb: SigningKey;
  let admin: ReturnType<typeof api>;

  const oidcLogin = (body: Record<string, unknown>) => api(stack).post('/api/v1/auth/oidc/login', body);

  beforeAll(async () => {
    acme = await new TestIdp(await freePort()).start();
    beta = await new TestIdp(await freePort()).start();
    junk = await new TestIdp(await freePort()).start();
    drip = await new TestIdp(await freePort()).start();
    weak = await new TestIdp(await freePort()).start();
    k1 = await acme.newKey('RS256');
    kb = await beta.newKey('RS256');
    const providers = [
      {
        name: 'acme',
        issuer: acme.issuer,
        clientId: 'portcullis-web',
        rolesClaim: 'groups',
        mapRoles: { 'platform-admins': 'admin' },
      },
      // A second client at the same IdP (a CLI): its own provider entry, without the admin mapping.
      { name: 'acme-cli', issuer: acme.issuer, clientId: 'portcullis-cli' },
      { name: 'beta', issuer: beta.issuer, clientId: 'portcullis-web' },
      { name: 'junk', issuer: junk.issuer, clientId: 'portcullis-web' },
      { name: 'drip', issuer: drip.issuer, clientId: 'portcullis-web' },
      { name: 'weak', issuer: weak.issuer, clientId: 'portcullis-web' },
    ];
    // The default JWKS cooldown (30 s): unknown kids must not make Portcullis hammer an IdP.
    stack = await new Stack({
      env: { OIDC_PROVIDERS: JSON.stringify(providers), OIDC_HTTP_TIMEOUT_MS: '1000' },
    }).start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([acme?.stop(), beta?.stop(), junk?.stop(), drip?.stop(), weak?.stop()]);
  }, 60000);

  // OIDC Core §3.1.3.7: with several audiences, `azp` says which client the token was issued to.
  // Without it, a token another relying party received (and may replay) cannot be told apart.
  it.each([
    ['several audiences and no azp', { aud: ['portcullis-web', 'evil-app'] }],
    ['several audiences issued to another client', { aud: ['portcullis-web', 'evil-app'], azp: 'evil-app' }],
  ])('refuses an ID token with %s', async (_what, claims) => {
    const r = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'aud-sub', ...claims }) });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ status: 'UNAUTHENTICATED' });
    expect(r.body.message).toMatch(/azp/);
  });

  it('picks, among the providers of one issuer, the client azp names', async () => {
    const claims = { sub: 'cli-sub', aud: ['portcullis-web', 'portcullis-cli'], azp: 'portcullis-cli' };
    const r = await oidcLogin({ idToken: await acme.idToken(k1, { ...claims, groups: ['platform-admins'] }) });
    expect(r.status).toBe(200);
    // acme-cli's configuration applies: no mapping, so no admin.
    expect(r.body.roles).toEqual(['user']);
  });

  it('accepts several audiences when azp names this client', async () => {
    const r = await oidcLogin({
      idToken: await acme.idToken(k1, { sub: 'aud-sub', aud: ['portcullis-web', 'other-api'], azp: 'portcullis-web' }),
    });
    expect(r.status).toBe(200);
  });

  // The IdP is where a federated account authenticates (its MFA, its disable) and where its roles
  // come from (refreshed at each IdP sign-in): a password here would go around all of that.
  it('never lets a federated account sign in with a password', async () => {
    const first = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'pw-sub', groups: ['platform-admins'] }) });
    expect(first.status).toBe(200);
    const password = 'a long enough password 1!';
    const set = await admin.patch(`/api/v1/users/${first.body.userId}`, { password });
    expect(set.status).toBe(409);
    expect(set.body.message).toMatch(/identity provider acme/);

    // A password already on the row (set before this rule) opens nothing either.
    const local = await admin.post('/api/v1/users', { username: 'pw-donor', password });
    expect(local.status).toBe(201);
    await stack.query(
      `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'pw-donor') WHERE id = $1`,
      [first.body.userId],
    );
    const r = await api(stack).post('/api/v1/auth/login', { username: 'acme:pw-sub', password });
    expect(r.status).toBe(401);
    expect(r.body.message).toBe('Invalid username or password');
    const [row] = await stack.query<{ reason: string }>(
      `SELECT data->>'reason' AS reason FROM audit_events WHERE type = 'login.failed' AND subject = $1`,
      [first.body.userId],
    );
    expect(row.reason).toBe('federated_user');
    // Nor does it set one itself: a 200 would promise a password that opens nothing.
    const own = await api(stack, first.body.access_token).put('/api/v1/users/me/password', {
      currentPassword: password,
      newPassword: 'another long password 2?',
    });
    expect(own.status).toBe(409);
    expect(own.body.message).toMatch(/identity provider acme/);
    expect((await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'pw-sub' }) })).status).toBe(200);
  });

  it("refuses a token of one provider signed with another provider's key, or presented as the other's", async () => {
    const forged = await beta.idToken(kb, { iss: acme.issuer });
    const r = await oidcLogin({ idToken: forged });
    expect(r.status).toBe(401);
    expect(r.body.message).toBe('ID token is signed by a key acme does not publish');
    const named = await oidcLogin({ idToken: await acme.idToken(k1), provider: 'beta' });
    expect(named.status).toBe(401);
    expect(named.body.message).toMatch(/beta/);
  });

  it('keeps the same sub at two issuers two accounts, each with its own roles', async () => {
    const a = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'shared-sub', groups: ['platform-admins'] }) });
    const b = await oidcLogin({ idToken: await beta.idToken(kb, { sub: 'shared-sub', groups: ['platform-admins'] }) });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.userId).not.toBe(b.body.userId);
    expect([a.body.roles, b.body.roles]).toEqual([['admin', 'user'], ['user']]);
  });

  it('gives nothing for claims naming the local admin or its roles', async () => {
    const r = await oidcLogin({
      idToken: await acme.idToken(k1, {
        sub: 'admin',
        preferred_username: stack.adminUsername,
        email: 'admin@portcullis.local',
        roles: ['admin'],
        groups: ['admin', 'Platform-Admins', 'platform-admins ', { 'platform-admins': true }],
        realm_access: { roles: ['admin'] },
      }),
    });
    expect(r.status).toBe(200);
    expect(r.body.roles).toEqual(['user']);
    const [row] = await stack.query<{ username: string; source: string }>(
      `SELECT username, source FROM users WHERE id = $1`,
      [r.body.userId],
    );
    expect(row).toEqual({ username: 'acme:admin', source: 'oidc' });
    const [local] = await stack.query<{ id: string }>(`SELECT id FROM users WHERE username = $1`, [
      stack.adminUsername,
    ]);
    expect(local.id).not.toBe(r.body.userId);
  });

  it.each([
    ['nbf in the future', { nbf: Math.floor(Date.now() / 1000) + 600 }, 'ID token is not valid yet'],
    ['no iat', { iat: undefined }, 'ID token has no iat claim'],
    ['an iat a day old with a far exp', { iat: Math.floor(Date.now() / 1000) - 90_000, exp: 4102444800 }, /./],
  ])('refuses a token with %s', async (_what, claims, message) => {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { sub: 'time-sub', aud: 'portcullis-web', iat: now, exp: now + 300 };
    for (const [k, v] of Object.entries(claims)) payload[k] = v;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: k1.alg, kid: k1.kid })
      .setIssuer(acme.issuer)
      .sign(k1.privateKey);
    const r = await oidcLogin({ idToken: token });
    expect(r.status).toBe(401);
    expect(r.body.message).toMatch(message);
  });

  // RFC 8725 §3.11 / RFC 9068: an access token the IdP issued for an API is not a sign-in.
  it.each(['at+jwt', 'application/at+JWT', 'logout+jwt'])('refuses a token typed %s', async (typ) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: 'typ-sub', aud: 'portcullis-web', iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: k1.alg, kid: k1.kid, typ })
      .setIssuer(acme.issuer)
      .sign(k1.privateKey);
    const r = await oidcLogin({ idToken: token });
    expect(r.status).toBe(401);
    expect(r.body.message).toBe('ID token is not an ID token (typ)');
  });

  it('asks an IdP for its keys at most once per cooldown, however many unknown kids arrive', async () => {
    const fetches = () => beta.requests.filter((u) => u === '/jwks').length;
    const before = fetches();
    const rogue = await beta.newKey('RS256', false);
    for (let i = 0; i < 15; i++) {
      const token = await new SignJWT({ sub: 'kid-sub', aud: 'portcullis-web' })
        .setProtectedHeader({ alg: 'RS256', kid: `guess-${randomBytes(4).toString('hex')}` })
        .setIssuer(beta.issuer)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(rogue.privateKey);
      expect((await oidcLogin({ idToken: token })).status).toBe(401);
    }
    expect(fetches() - before).toBeLessThanOrEqual(1);
  });

  it('answers 503, not a crash, when a JWKS holds garbage or drips forever', async () => {
    const kj = await junk.newKey('RS256', false);
    junk.jwksHandler = (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [{ kty: 'RSA', kid: kj.kid, alg: 'RS256', n: '%%%', e: '!!' }, 7, null, 'x'] }));
    const garbage = await oidcLogin({ idToken: await junk.idToken(kj) });
    expect(garbage.status).toBe(503);
    expect(garbage.body.message).toMatch(/^Identity provider junk is unavailable/);

    // Headers at once, then a byte now and then: the deadline covers the body too.
    const kd = await drip.newKey('RS256', false);
    let timer: NodeJS.Timeout | undefined;
    drip.jwksHandler = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).write('{"keys":[');
      timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const slow = await oidcLogin({ idToken: await drip.idToken(kd) });
    clearInterval(timer);
    expect(slow.status).toBe(503);
    expect(slow.body.message).toBe('Identity provider drip is unavailable: no answer within 1000 ms');
    expect(Date.now() - started).toBeLessThan(2900);
  });

  // A key jose will not use (here a 1024-bit RSA modulus) is the IdP's fault: said so, naming it,
  // not an internal error.
  it('answers 503 naming the provider when the key a token names is unusable', async () => {
    const kw = await weak.newKey('RS256', false);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    weak.published = [{ ...small, kid: kw.kid, alg: 'RS256', use: 'sig' }];
    const r = await oidcLogin({ idToken: await weak.idToken(kw) });
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(new RegExp(`^Identity provider weak is unavailable: its key ${kw.kid} is unusable`));
  });

  it('takes a deeply nested token in its stride, and refuses one past the size bound unread', async () => {
    const deep = JSON.parse('['.repeat(1000) + ']'.repeat(1000)) as unknown;
    const nested = await acme.idToken(k1, { sub: 'deep-sub', groups: deep, tenants: { a: { b: deep } } });
    const r = await oidcLogin({ idToken: nested });
    expect(r.status).toBe(200);
    expect(r.body.roles).toEqual(['user']);
    const huge = await acme.idToken(k1, { sub: 'huge-sub', pad: 'x'.repeat(20_000) });
    const big = await oidcLogin({ idToken: huge });
    expect(big.status).toBe(400);
    expect(big.body.error.data.fields[0].field).toBe('idToken');
  });

  // PostgreSQL text holds neither NUL nor half a surrogate pair (the driver turns one into U+FFFD,
  // so two such subjects would be one account).
  it('refuses a subject PostgreSQL cannot keep as it is', async () => {
    const nul = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'nul\u0000sub' }) });
    expect(nul.status).toBe(401);
    expect(nul.body.message).toBe('ID token subject is invalid');
    for (const sub of ['half-\ud800', 'half-\udbff']) {
      const r = await oidcLogin({ idToken: await acme.idToken(k1, { sub }) });
      expect(r.status).toBe(401);
      expect(r.body.message).toBe('ID token subject is invalid');
    }
  });

  // Whoever joins the IdP group mapped to admin becomes one here: that must be traceable as a change.
  it('audits roles an IdP sign-in changes as a user update by the provider', async () => {
    const first = await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'climber-sub' }) });
    const up = await oidcLogin({
      idToken: await acme.idToken(k1, { sub: 'climber-sub', groups: ['platform-admins'] }),
    });
    const same = await oidcLogin({
      idToken: await acme.idToken(k1, { sub: 'climber-sub', groups: ['platform-admins'] }),
    });
    expect([first.status, up.status, same.status]).toEqual([200, 200, 200]);
    const rows = await stack.query<{ actor: string; data: Record<string, unknown> }>(
      `SELECT actor, data FROM audit_events WHERE type = 'user.updated' AND subject = $1 ORDER BY created_at`,
      [first.body.userId],
    );
    expect(rows).toEqual([
      {
        actor: 'oidc:acme',
        data: {
          fields: ['roles'],
          source: 'oidc',
          provider: 'acme',
          previousRoles: ['user'],
          roles: ['admin', 'user'],
        },
      },
    ]);
  });
});
