import { IntrospectionReply, SUBJECTS } from '@portcullis/contracts';
import { clientHelpers } from '../support/clients';
import { api, DiscoveryReply, OAuthErrorReply, OAuthTokenReply, readJson, SessionReply } from '../support/fixtures';
import { login, Stack } from '../support/stack';

// The OAuth 2 endpoints: introspection, revocation, the password and refresh_token grants,
// discovery, a real client library; the clients themselves (lifecycle, client_credentials,
// registration, roles) are in clients-lifecycle.e2e-spec.ts.
describe('clients and OAuth 2 endpoints (issue #4, 2 replicas)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { natsValid, everywhere, form, basic, createClient, cc } = clientHelpers(stack, () => admin);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

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
    // Longer than any token issued (or than validate takes): not active, not a malformed request.
    const huge = `${ta}${'A'.repeat(9000)}`;
    const hugeReply = await form('/oauth/introspect', { token: huge }, basic('alpha', a.client_secret));
    expect(hugeReply.status).toBe(200);
    expect(await hugeReply.json()).toEqual({ active: false });
    expect((await form('/oauth/revoke', { token: huge }, basic('alpha', a.client_secret))).status).toBe(200);
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

  it('introspection calls a token inactive once its exp has passed; validation keeps the CLOCK_SKEW of SPEC §3', async () => {
    const c = await createClient('short-lived', ['reader']);
    expect((await admin.patch('/api/v1/clients/short-lived', { maxTokenLifetime: 30 })).status).toBe(200);
    const issued = await readJson<OAuthTokenReply>(await cc('short-lived', c.client_secret));
    expect(issued.expires_in).toBe(30);
    const introspect = async () =>
      readJson<IntrospectionReply & { exp?: number }>(
        await form('/oauth/introspect', { token: issued.access_token }, basic('short-lived', c.client_secret)),
      );
    const before = await introspect();
    expect(before.active).toBe(true);
    // Until one second past exp (whole seconds): then the issuer's own answer is "expired".
    await new Promise((r) => setTimeout(r, Math.max(0, before.exp! * 1000 + 1000 - Date.now())));
    expect(await introspect()).toEqual({ active: false });
    // Verifiers whose clock may run behind the issuer's still accept it within the skew (30 s).
    expect(await natsValid(issued.access_token)).toBe(true);
  }, 60000);

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
      await stack.natsRequest<{ claims: { cid: string; rcid: string } }>(SUBJECTS.TOKEN_VALIDATE, {
        token: session.access_token,
      })
    ).claims;
    expect(claims.cid).toBe('portal');
    const viaPost = await form('/oauth/token', { ...owner, client_id: 'portal', client_secret: c.client_secret });
    expect(viaPost.status).toBe(200);
    // A bare client_id is a public client (`none`): the token is attributed to it, as the native
    // login's clientId is; an unknown one is invalid_client (RFC 6749 §5.2).
    const publicClient = await form('/oauth/token', { ...owner, client_id: 'portal' });
    expect(publicClient.status).toBe(200);
    expect((await form('/oauth/token', { ...owner, client_id: 'nosuch' })).status).toBe(401);
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
    // The session portal asked for with its secret (rcid portal) is portal's: a leaked refresh token
    // alone, or with portal's bare id, is refused (RFC 6749 §6), natively too; the token survives.
    expect(claims).toMatchObject({ cid: 'portal', rcid: 'portal' });
    for (const leaked of [
      await form('/oauth/token', refresh),
      await form('/oauth/token', { ...refresh, client_id: 'portal' }),
    ]) {
      expect(leaked.status).toBe(401);
      expect((await readJson<OAuthErrorReply>(leaked)).error).toBe('invalid_client');
    }
    const native = await fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
    expect(native.status).toBe(401);
    const rotated = await form('/oauth/token', refresh, basic('portal', c.client_secret));
    expect(rotated.status).toBe(200);
    // A session on a client's behalf without its secret (a public client) is refreshed as before.
    const onBehalf = await readJson<SessionReply>(publicClient);
    expect(
      (await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: onBehalf.refresh_token })).status,
    ).toBe(200);
    // A value far too short to be a refresh token is an invalid grant, not a malformed request.
    const garbage = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'garbage' });
    expect(garbage.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(garbage)).error).toBe('invalid_grant');
  });

  it('access tokens carry the claims RFC 9068 §2.2 requires of an at+jwt, client_id the client introspection names', async () => {
    const c = await createClient('rfc9068', ['service']);
    const machine = await readJson<OAuthTokenReply>(await cc('rfc9068', c.client_secret));
    const person = await readJson<SessionReply>(
      await form(
        '/oauth/token',
        { grant_type: 'password', username: 'admin', password: stack.adminPassword },
        basic('rfc9068', c.client_secret),
      ),
    );
    for (const token of [machine.access_token, person.access_token]) {
      const [header, payload] = token
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
      expect(header.typ).toBe('at+jwt');
      for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'])
        expect(payload).toHaveProperty(claim);
      expect(payload.client_id).toBe('rfc9068');
      expect(payload.client_id).toBe(payload.cid);
      const introspected = await readJson<{ active: boolean; client_id: string }>(
        await form('/oauth/introspect', { token }, basic('rfc9068', c.client_secret)),
      );
      expect(introspected).toMatchObject({ active: true, client_id: payload.client_id });
    }
  });

  it('the default client named as client_id is the login without a client, as its refresh already was', async () => {
    // Its id is what /auth/me shows as `cid`: a login page or an OAuth library configured with it
    // must sign in, not hear that the client is unknown.
    const owner = { grant_type: 'password', username: 'admin', password: stack.adminPassword };
    const named = await form('/oauth/token', { ...owner, client_id: 'portcullis' });
    expect(named.status).toBe(200);
    const session = await readJson<SessionReply>(named);
    const me = await api(stack, session.access_token).get('/api/v1/auth/me');
    expect(me.body).toMatchObject({ cid: 'portcullis', rcid: 'portcullis' });
    const refreshed = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: session.refresh_token,
      client_id: 'portcullis',
    });
    expect(refreshed.status).toBe(200);
    const native = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: stack.adminPassword, clientId: 'portcullis' }),
    });
    expect(native.status).toBe(200);
    // It has no secret: presenting one is a failed client authentication, never a token.
    const withSecret = await form('/oauth/token', { ...owner, client_id: 'portcullis', client_secret: 'pcl_cs_x' });
    expect(withSecret.status).toBe(401);
    expect((await readJson<OAuthErrorReply>(withSecret)).error).toBe('invalid_client');
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

  it('parameters sent without a value are treated as omitted (RFC 6749 §3.1)', async () => {
    const c = await createClient('blank-params', ['service']);
    // Before: 400 invalid_request naming client_id / client_secret, as if a bad value had been sent.
    const owner = await form('/oauth/token', {
      grant_type: 'password',
      username: 'admin',
      password: stack.adminPassword,
      client_id: '',
      client_secret: '',
      scope: '',
    });
    expect(owner.status).toBe(200);
    const issued = await cc('blank-params', c.client_secret, { client_id: '', scope: '' });
    expect(issued.status).toBe(200);
    const { access_token } = await readJson<OAuthTokenReply>(issued);
    const introspected = await form(
      '/oauth/introspect',
      { token: access_token, token_type_hint: '', client_id: '' },
      basic('blank-params', c.client_secret),
    );
    expect(introspected.status).toBe(200);
    expect((await readJson<IntrospectionReply>(introspected)).active).toBe(true);
    // A required parameter sent empty is still missing.
    const noGrant = await form('/oauth/token', { grant_type: '' });
    expect(noGrant.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(noGrant)).error).toBe('invalid_request');
  });

  it('discovery lists what the server does', async () => {
    const d = await readJson<DiscoveryReply>(await fetch(`${stack.url}/.well-known/oauth-authorization-server`));
    expect(d.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'password', 'refresh_token']),
    );
    expect(d.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    // Nothing it does not do: no authorization endpoint, so no response type (the implicit grant's
    // `token` was listed before), and no signing algorithms for JWT client authentication.
    expect(d.response_types_supported).toEqual([]);
    expect(d).not.toHaveProperty('authorization_endpoint');
    expect(d).not.toHaveProperty('token_endpoint_auth_signing_alg_values_supported');
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
