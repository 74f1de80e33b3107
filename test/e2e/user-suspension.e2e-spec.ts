import { credentialHelpers } from '../support/credentials';
import { api, inDays } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/**
 * What a user holds when it is disabled, enabled again, deleted and its name taken by a new user:
 * every credential refused at once over NATS and REST validate; an enable brings back the PATs (the
 * user's own long-lived credentials, suspended) and nothing that was revoked; a new user of the
 * same name inherits nothing.
 */
describe('disabling, enabling and deleting a user: what it held', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { validate, everywhereInvalid, createUser } = credentialHelpers(stack, () => admin);

  const restValidate = async (token: string) =>
    (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } })).status;
  const everywhereValid = (token: string) =>
    within(1000, async () =>
      (await Promise.all(Array.from({ length: 8 }, () => validate(token)))).every((r) => r.valid),
    );
  const refresh = async (refreshToken: string) =>
    (
      await fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      })
    ).status;

  /** A session, its refresh token, a PAT and what the PAT and the session mint, all valid. */
  const holdings = async (username: string, password: string) => {
    const session = await login(stack, username, password);
    const own = api(stack, session.access_token);
    const pat = await own.post('/api/v1/users/me/tokens', { name: 'ci', expiresAt: inDays(30) });
    expect(pat.status).toBe(201);
    const viaPat = api(stack, pat.body.token as string);
    const minted = {
      'token minted from the PAT': await viaPat.post('/api/v1/tokens', {}),
      'token minted from the PAT for a client': await viaPat.post('/api/v1/tokens', { client_id: 'svc' }),
      'extended token minted from the PAT': await viaPat.post('/api/v1/auth/extended-token', {
        clientId: 'svc',
        expiry: 3600,
      }),
      'system token asked for by the session': await own.post('/api/v1/auth/system-token'),
    };
    const tokens: Record<string, string> = { session: session.access_token };
    for (const [name, r] of Object.entries(minted)) {
      expect({ name, status: r.status }).toEqual({ name, status: r.status === 201 ? 201 : 200 });
      tokens[name] = r.body.access_token as string;
    }
    for (const [name, token] of Object.entries({ ...tokens, pat: pat.body.token as string }))
      expect({ name, valid: (await validate(token)).valid }).toEqual({ name, valid: true });
    return { tokens, pat: pat.body.token as string, refreshToken: session.refresh_token };
  };

  const expectRefused = async (tokens: Record<string, string>) => {
    for (const [name, token] of Object.entries(tokens)) {
      await everywhereInvalid(token).catch(() => {
        throw new Error(`${name} is still valid over NATS`);
      });
      expect({ name, rest: await restValidate(token) }).toEqual({ name, rest: 401 });
    }
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    expect((await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] })).status).toBe(201);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a disabled user: everything refused at once; enabled again: its PATs come back, nothing revoked does', async () => {
    const carol = await createUser('carol', ['admin'], []);
    const held = await holdings(carol.username, carol.password);

    expect((await admin.patch(`/api/v1/users/${carol.id}`, { enabled: false })).status).toBe(200);
    await expectRefused({ ...held.tokens, pat: held.pat });
    expect(await refresh(held.refreshToken)).toBe(401);

    expect((await admin.patch(`/api/v1/users/${carol.id}`, { enabled: true })).status).toBe(200);
    await everywhereValid(held.pat);
    expect(await restValidate(held.pat)).toBe(200);
    await expectRefused(held.tokens);
    expect(await refresh(held.refreshToken)).toBe(401);
    expect((await login(stack, carol.username, carol.password)).access_token).toBeTruthy();
  });

  it('a user created disabled is disabled everywhere: a PAT made for it is refused until it is enabled', async () => {
    const r = await admin.post('/api/v1/users', {
      username: 'erin',
      password: 'erin-password-123',
      roles: ['user'],
      enabled: false,
    });
    expect(r.status).toBe(201);
    expect(r.body.enabled).toBe(false);
    const pat = await admin.post(`/api/v1/users/${r.body.id}/tokens`, { name: 'ci', expiresAt: inDays(30) });
    expect(pat.status).toBe(201);
    await everywhereInvalid(pat.body.token as string);
    expect(await validate(pat.body.token as string)).toMatchObject({
      valid: false,
      error: { code: 'UNAUTHENTICATED' },
    });
    expect(await restValidate(pat.body.token as string)).toBe(401);

    expect((await admin.patch(`/api/v1/users/${r.body.id}`, { enabled: true })).status).toBe(200);
    await everywhereValid(pat.body.token as string);
  });

  it('a deleted user: everything refused; a new user of the same name is someone else and inherits nothing', async () => {
    const dave = await createUser('dave', ['admin'], []);
    const held = await holdings(dave.username, dave.password);

    expect((await admin.del(`/api/v1/users/${dave.id}`)).status).toBe(204);
    await expectRefused({ ...held.tokens, pat: held.pat });
    expect(await refresh(held.refreshToken)).toBe(401);

    const again = await createUser('dave', ['admin'], []);
    expect(again.id).not.toBe(dave.id);
    const session = await login(stack, 'dave', again.password);
    expect(session.userId).toBe(again.id);
    await expectRefused({ ...held.tokens, pat: held.pat });
    const own = api(stack, session.access_token);
    expect((await own.get('/api/v1/users/me/tokens')).body.items).toEqual([]);
    const listed = (await own.get('/api/v1/tokens')).body.items as Array<{ tid: string }>;
    expect(listed.map((t) => t.tid)).toEqual([session.tid]);
    // The old PAT's name is free again, and the old PAT is not the new user's to delete.
    expect((await own.post('/api/v1/users/me/tokens', { name: 'ci', expiresAt: inDays(1) })).status).toBe(201);
    expect((await own.del(`/api/v1/users/me/tokens/${held.pat}`)).status).toBe(404);
  });
});
