import { IntrospectionReply } from '@portcullis/contracts';
import { clientHelpers } from '../support/clients';
import { api, inDays, OAuthTokenReply, readJson, SessionReply } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * What /oauth/introspect says about each kind of token (RFC 7662 §2.2): a user's access token, a
 * narrowed one, a PAT, a refresh token, an API key — and to whom.
 */
describe('OAuth introspection replies (RFC 7662 §2.2)', () => {
  const stack = new Stack({ replicas: 1 });
  let admin: ReturnType<typeof api>;
  let adminId: string;
  const { form, basic, createClient, cc } = clientHelpers(stack, () => admin);
  const owner = () => ({ grant_type: 'password', username: 'admin', password: stack.adminPassword });
  const introspect = async (token: string, id: string, secret: string) => {
    const res = await form('/oauth/introspect', { token }, basic(id, secret));
    expect(res.status).toBe(200);
    return readJson<IntrospectionReply & Record<string, unknown>>(res);
  };

  beforeAll(async () => {
    await stack.start();
    const s = await login(stack);
    adminId = s.userId;
    admin = api(stack, s.access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it("a user's access token: every RFC 7662 member, username included", async () => {
    const app = await createClient('web-app', ['reader']);
    const s = await readJson<SessionReply>(await form('/oauth/token', owner(), basic('web-app', app.client_secret)));
    const info = await introspect(s.access_token, 'web-app', app.client_secret);
    expect(info).toEqual({
      active: true,
      sub: adminId,
      username: 'admin',
      client_id: 'web-app',
      scope: 'admin',
      token_type: 'Bearer',
      exp: expect.any(Number),
      iat: expect.any(Number),
      nbf: info.iat,
      iss: stack.issuer,
      aud: 'portcullis',
      jti: s.tid ?? expect.any(String),
      roles: ['admin'],
      tenants: expect.any(Array),
      typ: 'user',
    });
    expect(info.exp! - info.iat!).toBe(s.expires_in);
    // Narrowed by scope: the scope is what the token may do.
    const narrowed = await readJson<SessionReply>(
      await form('/oauth/token', { ...owner(), scope: 'users:read' }, basic('web-app', app.client_secret)),
    );
    expect((await introspect(narrowed.access_token, 'web-app', app.client_secret)).scope).toBe('users:read');
    // A client's own token has no user behind it.
    const own = await readJson<OAuthTokenReply>(await cc('web-app', app.client_secret));
    const ownInfo = await introspect(own.access_token, 'web-app', app.client_secret);
    expect(ownInfo).toMatchObject({ active: true, sub: 'web-app', client_id: 'web-app' });
    expect(ownInfo).not.toHaveProperty('username');
  });

  it('a refresh token: only its own client sees it active, with the scope a refresh would grant', async () => {
    const app = await createClient('rt-app', ['reader']);
    const rs = await createClient('rt-resource-server', ['service']);
    const narrowed = await readJson<SessionReply>(
      await form('/oauth/token', { ...owner(), scope: 'tokens:read' }, basic('rt-app', app.client_secret)),
    );
    const info = await introspect(narrowed.refresh_token, 'rt-app', app.client_secret);
    expect(info).toEqual({
      active: true,
      token_type: 'refresh_token',
      scope: 'tokens:read',
      sub: adminId,
      username: 'admin',
      client_id: 'rt-app',
      exp: expect.any(Number),
      iat: expect.any(Number),
      iss: stack.issuer,
    });
    const whole = await readJson<SessionReply>(await form('/oauth/token', owner(), basic('rt-app', app.client_secret)));
    expect((await introspect(whole.refresh_token, 'rt-app', app.client_secret)).scope).toBe('admin');
    // A resource server never receives a refresh token: token:validate does not make it one it may introspect.
    expect(await introspect(whole.refresh_token, 'rt-resource-server', rs.client_secret)).toEqual({ active: false });
    // Rotated: no longer active.
    const rotated = await form(
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: whole.refresh_token },
      basic('rt-app', app.client_secret),
    );
    expect(rotated.status).toBe(200);
    expect(await introspect(whole.refresh_token, 'rt-app', app.client_secret)).toEqual({ active: false });
  });

  it('a PAT is a bearer a resource server may introspect; an API key is never an active bearer', async () => {
    const rs = await createClient('pat-resource-server', ['service']);
    const plain = await createClient('pat-plain', ['reader']);
    const pat = await admin.post('/api/v1/users/me/tokens', {
      name: 'introspected',
      expiresAt: inDays(1),
      permissions: ['tokens:read'],
    });
    expect(pat.status).toBe(201);
    expect(await introspect(pat.body.token, 'pat-resource-server', rs.client_secret)).toMatchObject({
      active: true,
      sub: adminId,
      username: 'admin',
      scope: 'tokens:read',
      typ: 'pat',
      token_type: 'Bearer',
    });
    expect(await introspect(pat.body.token, 'pat-plain', plain.client_secret)).toEqual({ active: false });

    const key = await admin.post('/api/v1/clients/pat-resource-server/api-keys', { name: 'k' });
    expect(key.status).toBe(201);
    expect(await introspect(key.body.apiKey, 'pat-resource-server', rs.client_secret)).toEqual({ active: false });
  });
});
