import { credentialHelpers } from '../support/credentials';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

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
});
