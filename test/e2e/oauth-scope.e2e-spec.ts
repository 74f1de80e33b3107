import { AccessTokenClaims, SUBJECTS } from '@portcullis/contracts';
import { clientHelpers } from '../support/clients';
import { api, inDays, OAuthErrorReply, readJson, SessionReply } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * `scope` on the password and refresh_token grants (RFC 6749 §3.3, §4.3.2, §6): the rule
 * client_credentials narrows by — each scope token a role or a permission the user holds — and a
 * refresh that narrows within the session's original grant, never beyond it.
 */
describe('OAuth scope on the password and refresh_token grants', () => {
  const stack = new Stack({ replicas: 1 });
  let admin: ReturnType<typeof api>;
  const { form, basic, createClient } = clientHelpers(stack, () => admin);
  const username = 'scoped-user';
  const password = 'Scoped-user-Pa55word!';
  const owner = { grant_type: 'password', username, password };
  const claimsOf = async (token: string, permissions?: string[]) =>
    stack.natsRequest<{ valid: boolean; claims: AccessTokenClaims }>(SUBJECTS.TOKEN_VALIDATE, {
      token,
      ...(permissions ? { permissions } : {}),
    });
  const granted = async (params: Record<string, string>) => {
    const res = await form('/oauth/token', params);
    const body = await readJson<SessionReply & OAuthErrorReply>(res);
    expect({ status: res.status, params, error: body.error_description }).toEqual({
      status: 200,
      params,
      error: undefined,
    });
    return body;
  };
  const refused = async (params: Record<string, string>) => {
    const res = await form('/oauth/token', params);
    return { status: res.status, error: (await readJson<OAuthErrorReply>(res)).error };
  };
  const refresh = (refresh_token: string, scope?: string, client_id?: string) => ({
    grant_type: 'refresh_token',
    refresh_token,
    ...(client_id ? { client_id } : {}),
    ...(scope !== undefined ? { scope } : {}),
  });

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    expect((await admin.post('/api/v1/users', { username, password, roles: ['user', 'service'] })).status).toBe(201);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('the password grant narrows the tokens to the roles or permissions asked, and says what it granted', async () => {
    const whole = await granted(owner);
    expect(whole.roles).toEqual(['user', 'service']);
    expect(whole.scope).toBeUndefined();
    expect((await claimsOf(whole.access_token)).claims.perms).toBeUndefined();

    const byRole = await granted({ ...owner, scope: 'service' });
    expect(byRole).toMatchObject({ roles: ['service'], scope: 'service' });
    expect((await claimsOf(byRole.access_token)).claims).toMatchObject({ roles: ['service'] });

    const byPerm = await granted({ ...owner, scope: 'tokens:read' });
    expect(byPerm).toMatchObject({ roles: ['user', 'service'], scope: 'tokens:read' });
    expect((await claimsOf(byPerm.access_token)).claims.perms).toEqual(['tokens:read']);
    expect((await claimsOf(byPerm.access_token, ['tokens:write'])).valid).toBe(false);
    expect((await claimsOf(byPerm.access_token, ['tokens:read'])).valid).toBe(true);
  });

  it("ignores OpenID Connect's identity scopes, which client libraries send by default", async () => {
    const oidcDefault = await granted({ ...owner, scope: 'openid profile email offline_access' });
    expect(oidcDefault.roles).toEqual(['user', 'service']);
    expect((await claimsOf(oidcDefault.access_token)).claims.perms).toBeUndefined();
    // The session is not narrowed: a refresh asking nothing gets everything back.
    const refreshed = await granted(refresh(oidcDefault.refresh_token!));
    expect(refreshed.roles).toEqual(['user', 'service']);

    const withPerm = await granted({ ...owner, scope: 'openid tokens:read' });
    expect(withPerm).toMatchObject({ roles: ['user', 'service'], scope: 'tokens:read' });
  });

  it('a scope the user does not hold is invalid_scope; with a wrong password it is the usual invalid_grant', async () => {
    for (const scope of ['admin', 'users:write', 'tokens:read no-such-thing'])
      expect(await refused({ ...owner, scope })).toEqual({ status: 400, error: 'invalid_scope' });
    // Judged after the password: a wrong password learns nothing about what the account holds.
    expect(await refused({ ...owner, password: 'Wrong-Pa55word-xyz', scope: 'admin' })).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('a refresh narrows within the original grant, never beyond, and the next refresh may ask for all of it again', async () => {
    const session = await granted({ ...owner, scope: 'tokens:read tokens:write' });
    expect((await claimsOf(session.access_token)).claims.perms).toEqual(['tokens:read', 'tokens:write']);

    const narrower = await granted(refresh(session.refresh_token, 'tokens:read'));
    expect(narrower.scope).toBe('tokens:read');
    expect((await claimsOf(narrower.access_token)).claims.perms).toEqual(['tokens:read']);

    // Wider than the session was granted, though the user holds it: refused, and the refresh token
    // stays usable (RFC 6749 §6: the scope must not include any not originally granted).
    for (const scope of ['token:validate', 'service', 'admin'])
      expect(await refused(refresh(narrower.refresh_token, scope))).toEqual({ status: 400, error: 'invalid_scope' });

    const again = await granted(refresh(narrower.refresh_token, 'tokens:read tokens:write'));
    expect((await claimsOf(again.access_token)).claims.perms).toEqual(['tokens:read', 'tokens:write']);
    // No scope asked: the original grant, not everything the user holds.
    const omitted = await granted(refresh(again.refresh_token));
    expect(omitted.scope).toBe('tokens:read tokens:write');
    expect((await claimsOf(omitted.access_token)).claims.perms).toEqual(['tokens:read', 'tokens:write']);
    // The native refresh of a narrowed session stays narrowed too.
    const native = await api(stack).post('/api/v1/auth/refresh', { refresh_token: omitted.refresh_token });
    expect(native.status).toBe(200);
    expect((await claimsOf(native.body.access_token)).claims.perms).toEqual(['tokens:read', 'tokens:write']);
  });

  it('a session granted without a scope may be narrowed by a refresh and widened back to the whole grant', async () => {
    const session = await granted(owner);
    expect(await refused(refresh(session.refresh_token, 'admin'))).toEqual({ status: 400, error: 'invalid_scope' });
    const narrowed = await granted(refresh(session.refresh_token, 'service'));
    expect(narrowed).toMatchObject({ roles: ['service'], scope: 'service' });
    const whole = await granted(refresh(narrowed.refresh_token));
    expect(whole.roles).toEqual(['user', 'service']);
    expect(whole.scope).toBeUndefined();
  });
  it('a refresh leaves out what the user has lost since, and a narrowed session left with nothing is invalid_grant', async () => {
    const other = 'scope-loser';
    const created = await admin.post('/api/v1/users', { username: other, password, roles: ['user', 'service'] });
    expect(created.status).toBe(201);
    // The sessions are a client's (client_id alone: a public client), so that client may introspect them.
    const owning = await createClient('scope-owner', ['reader']);
    const as = { grant_type: 'password', username: other, password, client_id: 'scope-owner' };
    const both = await granted({ ...as, scope: 'service tokens:read' });
    const onlyService = await granted({ ...as, scope: 'service' });
    // Behind the API's back, so no revocation comes with it: only the refresh's own check is left.
    await stack.query(`UPDATE users SET roles = '{user}' WHERE id = $1`, [created.body.id]);
    const introspect = async (token: string) =>
      readJson<{ active: boolean; scope?: string }>(
        await form('/oauth/introspect', { token }, basic('scope-owner', owning.client_secret)),
      );
    // Introspection of the refresh tokens says what a refresh would grant now.
    expect(await introspect(both.refresh_token)).toMatchObject({ active: true, scope: 'tokens:read' });
    expect(await introspect(onlyService.refresh_token)).toEqual({ active: false });
    const kept = await granted(refresh(both.refresh_token, undefined, 'scope-owner'));
    expect(kept).toMatchObject({ roles: ['user'], scope: 'tokens:read' });
    expect((await claimsOf(kept.access_token)).claims.perms).toEqual(['tokens:read']);
    expect(await refused(refresh(onlyService.refresh_token, undefined, 'scope-owner'))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await refused(refresh(kept.refresh_token, 'service', 'scope-owner'))).toEqual({
      status: 400,
      error: 'invalid_scope',
    });
  });
  it('discovery lists the scope values a client may ask for: the permissions and the configured roles', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const d = await readJson<{ scopes_supported?: string[] }>(await fetch(`${stack.url}${path}`));
      expect({ path, scopes: d.scopes_supported }).toEqual({
        path,
        scopes: expect.arrayContaining(['admin', 'user', 'service', 'system', 'tokens:read', 'token:validate']),
      });
    }
  });
  it('a narrowed password token does no more than it was narrowed to, nor mints anything wider', async () => {
    const adminGrant = { grant_type: 'password', username: 'admin', password: stack.adminPassword };
    const byPerm = api(stack, (await granted({ ...adminGrant, scope: 'tokens:write tokens:read' })).access_token);
    expect((await byPerm.get('/api/v1/users')).status).toBe(403);
    // Not a session: it mints no PAT, and a token it mints keeps its narrowing.
    expect((await byPerm.post('/api/v1/users/me/tokens', { name: 'wide', expiresAt: inDays(1) })).status).toBe(403);
    const minted = await byPerm.post('/api/v1/tokens', {});
    expect(minted.status).toBe(201);
    expect((await claimsOf(minted.body.access_token)).claims.perms).toEqual(['tokens:write', 'tokens:read']);

    // Narrowed to one of its roles: a token it mints may not name the other one.
    const byRole = api(stack, (await granted({ ...owner, scope: 'user' })).access_token);
    expect((await byRole.post('/api/v1/tokens', { roles: ['service'] })).status).toBe(403);
    expect((await byRole.post('/api/v1/tokens', { roles: ['user'] })).status).toBe(201);
    // An administrator holds every permission, but not every role: no scope names one it lacks.
    expect(await refused({ ...adminGrant, scope: 'system' })).toEqual({ status: 400, error: 'invalid_scope' });
  });
});
