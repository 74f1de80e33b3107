import { credentialHelpers } from '../support/credentials';
import { api, inDays } from '../support/fixtures';
import { login, Stack } from '../support/stack';

// Users changed by several requests at once (2 replicas): updates, deletes, revocations, PATs and
// the tokens a user's session mints running together answer as one after the other would, and
// leave no token behind (as clients-concurrency does for clients).
describe('users under concurrent changes', () => {
  // Logins racing a disable or a delete fail, from one address: the per-address throttle is not what is tested.
  const stack = new Stack({ replicas: 2, gatewayEnv: { LOGIN_FAILURES_PER_IP: '1000' } });
  let admin: ReturnType<typeof api>;
  const { validate, createUser } = credentialHelpers(stack, () => admin);

  const refresh = (refreshToken: string) =>
    fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
  const loginReply = (username: string, password: string) =>
    fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  /** The access tokens among replies (a refused one has none). */
  const accessTokens = async (replies: Array<{ status: number; json?: () => Promise<unknown>; body?: unknown }>) => {
    const tokens: string[] = [];
    for (const r of replies) {
      if (r.status !== 200 && r.status !== 201) continue;
      const body = (r.json ? await r.json() : r.body) as { access_token?: string };
      if (body.access_token) tokens.push(body.access_token);
    }
    return tokens;
  };
  const alive = async (tokens: string[]) =>
    (await Promise.all(tokens.map(async (t) => ((await validate(t)).valid ? t : null)))).filter(Boolean);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a delete at once with updates, revocations and PAT changes: each answers, none is a 500 (deadlock)', async () => {
    const statuses: Record<string, number[]> = {};
    for (let round = 0; round < 8; round++) {
      const u = await createUser(`contended-${round}`);
      // Sessions and PATs to revoke: every request below locks some of them, and the user's row.
      await Promise.all([0, 1, 2].map(() => login(stack, u.username, u.password)));
      for (const name of ['a', 'b'])
        expect((await admin.post(`/api/v1/users/${u.id}/tokens`, { name, expiresAt: inDays(30) })).status).toBe(201);
      const requests = {
        delete: admin.del(`/api/v1/users/${u.id}`),
        disable: admin.patch(`/api/v1/users/${u.id}`, { enabled: false }),
        roles: admin.patch(`/api/v1/users/${u.id}`, { roles: ['user', 'auditor'] }),
        password: admin.patch(`/api/v1/users/${u.id}`, { password: 'An0ther-passw0rd-for-it' }),
        revoke: admin.post(`/api/v1/users/${u.id}/revoke`),
        credentials: admin.del(`/api/v1/users/${u.id}/credentials`),
        patCreate: admin.post(`/api/v1/users/${u.id}/tokens`, { name: 'c', expiresAt: inDays(30) }),
        patDelete: admin.del(`/api/v1/users/${u.id}/tokens/a`),
      };
      const answers = await Promise.all(Object.values(requests));
      Object.keys(requests).forEach((k, i) => (statuses[k] ??= []).push(answers[i].status));
    }
    expect(statuses.delete.every((s) => s === 204)).toBe(true);
    const errors = Object.entries(statuses).filter(([, s]) => s.some((x) => x >= 500));
    expect(errors).toEqual([]);
  });

  it('enabling a user again brings back no token, not even one minted, refreshed or signed in while the disable ran', async () => {
    // `system`: its session asks for system tokens too (their subject is a client, their user_id the user).
    // `admin`: its PAT mints for a client too (those end with the PAT's line, token-lineage.ts).
    const u = await createUser('flapping', ['user', 'system', 'admin']);
    expect((await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] })).status).toBe(201);
    const tokens: string[] = [];
    const whileDisabled: string[] = [];
    for (let round = 0; round < 12; round++) {
      const session = await login(stack, u.username, u.password);
      const own = api(stack, session.access_token);
      const pat = await own.post('/api/v1/users/me/tokens', { name: `p${round}`, expiresAt: inDays(30) });
      expect(pat.status).toBe(201);
      const viaPat = api(stack, pat.body.token as string);
      // The mints spread over the few milliseconds the disable takes: those authenticated just
      // before it was announced write their tokens just after its revocation.
      const later = <T>(ms: number, call: () => Promise<T>) =>
        new Promise<T>((resolve, reject) => setTimeout(() => call().then(resolve, reject), ms));
      const [disabled, ...issued] = await Promise.all([
        admin.patch(`/api/v1/users/${u.id}`, { enabled: false }),
        ...[0, 2, 4, 6, 8, 10, 12, 14].map((ms) => later(ms, () => own.post('/api/v1/tokens', {}))),
        ...[1, 5, 9, 13].map((ms) => later(ms, () => viaPat.post('/api/v1/tokens', {}))),
        ...[3, 7, 11].map((ms) => later(ms, () => own.post('/api/v1/auth/system-token'))),
        ...[2, 6, 10].map((ms) => later(ms, () => viaPat.post('/api/v1/tokens', { client_id: 'svc' }))),
        ...[4, 8, 12].map((ms) =>
          later(ms, () => viaPat.post('/api/v1/auth/extended-token', { clientId: 'svc', expiry: 3600 })),
        ),
        refresh(session.refresh_token),
        loginReply(u.username, u.password),
      ]);
      expect(disabled.status).toBe(200);
      const minted = [session.access_token, ...(await accessTokens(issued))];
      tokens.push(...minted);
      // Refused while the user is disabled, too (every replica within a second, SPEC §7).
      await new Promise((r) => setTimeout(r, 300));
      whileDisabled.push(...((await alive(minted)) as string[]));
      expect((await admin.patch(`/api/v1/users/${u.id}`, { enabled: true })).status).toBe(200);
    }
    // Every replica within a second (SPEC §7).
    await new Promise((r) => setTimeout(r, 1000));
    expect({ issued: tokens.length > 8, whileDisabled, alive: await alive(tokens) }).toEqual({
      issued: true,
      whileDisabled: [],
      alive: [],
    });
  }, 30000);

  it('a user made again under a deleted username brings back no token, not even one minted while the delete ran, nor does a restart', async () => {
    const tokens: string[] = [];
    for (let round = 0; round < 8; round++) {
      // `system`: its session asks for system tokens too (their subject is a client, their user_id the user).
      const u = await createUser('reborn', ['user', 'system']);
      const session = await login(stack, u.username, u.password);
      const own = api(stack, session.access_token);
      const later = <T>(ms: number, call: () => Promise<T>) =>
        new Promise<T>((resolve, reject) => setTimeout(() => call().then(resolve, reject), ms));
      const [deleted, ...issued] = await Promise.all([
        admin.del(`/api/v1/users/${u.id}`),
        ...[0, 2, 4, 6, 8, 10].map((ms) => later(ms, () => own.post('/api/v1/tokens', {}))),
        ...[1, 3, 5, 7, 9].map((ms) => later(ms, () => own.post('/api/v1/auth/system-token'))),
        refresh(session.refresh_token),
        loginReply(u.username, u.password),
      ]);
      expect(deleted.status).toBe(204);
      tokens.push(session.access_token, ...(await accessTokens(issued)));
    }
    const again = await createUser('reborn', ['user', 'system']);
    // Its first session, as the old user's stragglers would want.
    await login(stack, again.username, again.password);
    await new Promise((r) => setTimeout(r, 1000));
    expect({ issued: tokens.length > 8, alive: await alive(tokens) }).toEqual({ issued: true, alive: [] });
    // A replica started later knows the deleted users only from what the database still holds:
    // what it refuses is only what was revoked (its event feed starts 5 s back).
    await new Promise((r) => setTimeout(r, 5500));
    const [first, second] = stack.replicas;
    await stack.startReplica();
    await Promise.all([first.stop(), second.stop()]);
    expect({ afterRestart: await alive(tokens) }).toEqual({ afterRestart: [] });
  }, 60000);
});
