import { api } from '../support/fixtures';
import { freePort, login, Stack } from '../support/stack';
import { SigningKey, TestIdp } from '../support/test-idp';

/**
 * An adversary against external IdP sign-in: ID tokens meant for another relying party, and a
 * federated account reached around its IdP. Real IdP servers on loopback ports.
 */
describe('OIDC federation under attack', () => {
  let acme: TestIdp;
  let stack: Stack;
  let k1: SigningKey;
  let admin: ReturnType<typeof api>;

  const oidcLogin = (body: Record<string, unknown>) => api(stack).post('/api/v1/auth/oidc/login', body);

  beforeAll(async () => {
    acme = await new TestIdp(await freePort()).start();
    k1 = await acme.newKey('RS256');
    const providers = [
      {
        name: 'acme',
        issuer: acme.issuer,
        clientId: 'portcullis-web',
        rolesClaim: 'groups',
        mapRoles: { 'platform-admins': 'admin' },
      },
    ];
    stack = await new Stack({ env: { OIDC_PROVIDERS: JSON.stringify(providers) } }).start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);

  afterAll(async () => {
    await stack?.stop();
    await acme?.stop();
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
    expect((await oidcLogin({ idToken: await acme.idToken(k1, { sub: 'pw-sub' }) })).status).toBe(200);
  });
});
