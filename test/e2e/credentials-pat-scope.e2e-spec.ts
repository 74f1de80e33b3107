import { credentialHelpers } from '../support/credentials';
import { api, INSUFFICIENT_SCOPE, REFUSED, refusal } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

// What a PAT reaches beyond its owner: nobody else's account can delete it, and it never keeps a
// tenant its owner has lost. Its lifecycle is in credentials-users-pats.e2e-spec.ts.
describe('PATs stay within their owner', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  let adminId: string;
  const { validate, everywhereInvalid, createUser } = credentialHelpers(stack, () => admin);
  const signIn = async (u: { username: string; password: string }) =>
    api(stack, (await login(stack, u.username, u.password)).access_token);
  const deletions = (patId: string) =>
    stack.query(`SELECT actor, subject FROM audit_events WHERE type = 'pat.deleted' AND data->>'id' = $1`, [patId]);

  beforeAll(async () => {
    await stack.start();
    const s = await login(stack);
    admin = api(stack, s.access_token);
    adminId = s.userId;
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('deleting by value finds only the tokens of the user in the path: a token of another user is not found', async () => {
    const ursula = await createUser('ursula');
    const victor = await createUser('victor');
    const asUrsula = await signIn(ursula);
    const pat = (await (await signIn(victor)).post('/api/v1/users/me/tokens', { name: 'ci' })).body;

    const byOther = await asUrsula.del(`/api/v1/users/me/tokens/${pat.token}`);
    expect(byOther.status).toBe(404);
    expect(byOther.body).toMatchObject({ status: 'NOT_FOUND', error: { errorKey: 'NOT_FOUND' } });
    // An admin acting on Ursula does not reach Victor's token either.
    expect((await admin.del(`/api/v1/users/${ursula.id}/tokens/${pat.token}`)).status).toBe(404);
    expect((await validate(pat.token)).valid).toBe(true);
    expect(await deletions(pat.id)).toEqual([]);

    // Under its owner, it goes, and the audit names its owner.
    expect((await admin.del(`/api/v1/users/${victor.id}/tokens/${pat.token}`)).status).toBe(204);
    await everywhereInvalid(pat.token);
    expect(await deletions(pat.id)).toEqual([{ actor: adminId, subject: victor.id }]);
  });

  it('a PAT wider than its owner is refused to any caller (no insufficient_scope); wider than the session, for the session', async () => {
    const olga = await createUser('olga', ['user', 'system'], ['t1']);
    const asked = {
      'a permission the owner lacks': await admin.post(`/api/v1/users/${olga.id}/tokens`, {
        name: 'wide',
        permissions: ['users:write'],
      }),
      'a tenant the owner lacks': await admin.post(`/api/v1/users/${olga.id}/tokens`, { name: 'far', tenants: ['t2'] }),
    };
    const seen = Object.fromEntries(Object.entries(asked).map(([k, r]) => [k, refusal(r)]));
    expect(seen).toEqual(Object.fromEntries(Object.keys(asked).map((k) => [k, REFUSED])));
    // Her session narrowed to `user`: `clients:read` is hers (system), not this session's.
    const narrowed = (await (await signIn(olga)).post('/api/v1/tokens', { roles: ['user'] })).body
      .access_token as string;
    const own = await api(stack, narrowed).post('/api/v1/users/me/tokens', {
      name: 'ro',
      permissions: ['clients:read'],
    });
    expect(refusal(own)).toEqual(INSUFFICIENT_SCOPE);
  });

  it('GET /auth/me says what a narrowed token may do (perms); a whole session has none to say', async () => {
    const yuri = await createUser('yuri', ['user'], ['t1']);
    const session = await signIn(yuri);
    const pat = (await session.post('/api/v1/users/me/tokens', { name: 'ro', permissions: ['tokens:read'] })).body;
    // An opaque PAT cannot be decoded: /auth/me is where its holder learns it is read-only.
    const me = await api(stack, pat.token as string).get('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ typ: 'pat', r: ['user'], perms: ['tokens:read'], tenants: ['t1'] });
    const whole = await session.get('/api/v1/auth/me');
    expect(whole.body.typ).toBe('user');
    expect(whole.body).not.toHaveProperty('perms');
  });

  // Each PAT is validated first after the tenant change: a replica caches a PAT's claims for 30 s
  // (pat-resolver.service.ts), for tenants as for permissions.
  it('a PAT keeps no tenant its owner has lost; `*` on either side stands for the other', async () => {
    const wanda = await createUser('wanda', ['user'], ['t1', 't2']);
    const pat = (await (await signIn(wanda)).post('/api/v1/users/me/tokens', { name: 'ci', tenants: ['t1'] })).body;
    expect(pat.tenants).toEqual(['t1']);
    expect((await admin.patch(`/api/v1/users/${wanda.id}`, { tenants: ['t2'] })).status).toBe(200);
    const rest = await fetch(`${stack.url}/api/v1/auth/validate?tenant=t1`, {
      headers: { authorization: `Bearer ${pat.token}` },
    });
    expect(rest.status).toBe(403);
    expect(await validate(pat.token)).toMatchObject({ valid: true, claims: { tenants: [] } });
    expect((await validate(pat.token, { tenant: 't1' })).error?.code).toBe('FORBIDDEN');

    // An owner with every tenant keeps the PAT's own; a PAT for every tenant gets what its owner holds.
    const xena = await createUser('xena', ['user'], ['*']);
    const asXena = await signIn(xena);
    const narrow = (await asXena.post('/api/v1/users/me/tokens', { name: 'narrow', tenants: ['t1'] })).body.token;
    const wide = (await asXena.post('/api/v1/users/me/tokens', { name: 'wide', tenants: ['*'] })).body.token;
    expect((await validate(narrow)).claims?.tenants).toEqual(['t1']);
    expect((await admin.patch(`/api/v1/users/${xena.id}`, { tenants: ['t2'] })).status).toBe(200);
    expect((await validate(wide)).claims?.tenants).toEqual(['t2']);
    expect((await validate(wide, { tenant: 't1' })).error?.code).toBe('FORBIDDEN');
    expect((await validate(wide, { tenant: 't2' })).valid).toBe(true);
  });

  it('a PAT refused because its owner is disabled is not recorded as used, nor its address as known', async () => {
    // Before: the refused PAT's lastUsedAt was set (the owner was told it had been used) and its
    // address recorded and audited as a new one, so a later accepted use from there raised nothing.
    const wendy = await createUser('wendy');
    const pat = (await (await signIn(wendy)).post('/api/v1/users/me/tokens', { name: 'ci' })).body;
    expect((await admin.patch(`/api/v1/users/${wendy.id}`, { enabled: false })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500)); // every replica knows within a second (SPEC §7)
    for (let i = 0; i < 4; i++)
      expect((await api(stack).post('/api/v1/auth/validate', { token: pat.token })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 11_000)); // replicas write the uses they saw every 10 s
    const [row] = await stack.query<{ last_used_at: Date | null }>(
      `SELECT last_used_at FROM personal_access_tokens WHERE id = $1`,
      [pat.id],
    );
    expect(row.last_used_at).toBeNull();
    expect(await stack.query(`SELECT ip FROM pat_addresses WHERE pat_id = $1`, [pat.id])).toEqual([]);

    // Enabled again, a use is a use.
    expect((await admin.patch(`/api/v1/users/${wendy.id}`, { enabled: true })).status).toBe(200);
    await within(
      2000,
      async () => (await api(stack).post('/api/v1/auth/validate', { token: pat.token })).status === 200,
    );
    await within(
      3000,
      async () => (await stack.query(`SELECT ip FROM pat_addresses WHERE pat_id = $1`, [pat.id])).length === 1,
    );
  }, 30000);
});
