import { credentialHelpers } from '../support/credentials';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Tenants are a ceiling too: a holder of `users:write` or `clients:write` scoped to some tenants (a
 * tenant's own administrator, through a role ROLE_PERMISSIONS defines) grants no tenant its token
 * does not carry, `*` included, and changes no user or client of another tenant. Before, such an
 * administrator of `acme` created a user of `*` with a password of its choosing (and so held every
 * tenant by logging in as it), gave itself `*`, and reset the password of a `globex` user.
 * Whoever holds every permission (`admin`) is not bounded: it could grant itself any tenant.
 */
describe('a write permission grants no tenant its holder lacks', () => {
  const stack = new Stack({
    env: {
      ROLE_PERMISSIONS: JSON.stringify({
        'tenant-admin': ['users:read', 'users:write', 'clients:read', 'clients:write'],
      }),
    },
  });
  let admin: ReturnType<typeof api>;
  let acmeAdmin: ReturnType<typeof api>;
  let acmeAdminId: string;
  const { createUser } = credentialHelpers(stack, () => admin);
  const forbidden = { status: 403, body: expect.objectContaining({ status: 'FORBIDDEN' }) };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    const a = await createUser('acme-admin', ['tenant-admin'], ['acme']);
    acmeAdminId = a.id;
    acmeAdmin = api(stack, (await login(stack, a.username, a.password)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('users: creates none of, moves none into, and takes over none of another tenant', async () => {
    const user = (username: string, tenants: string[]) =>
      acmeAdmin.post('/api/v1/users', { username, password: `${username}-password-123`, roles: [], tenants });
    expect(await user('tc-star', ['*'])).toMatchObject(forbidden);
    expect(await user('tc-globex', ['globex'])).toMatchObject(forbidden);
    expect(await user('tc-both', ['acme', 'globex'])).toMatchObject(forbidden);
    expect((await admin.get('/api/v1/users?username=tc-')).body.items).toEqual([]);
    const mine = await user('tc-acme', ['acme']);
    expect(mine.status).toBe(201);

    expect(await acmeAdmin.patch(`/api/v1/users/${mine.body.id}`, { tenants: ['*'] })).toMatchObject(forbidden);
    expect(await acmeAdmin.patch(`/api/v1/users/${acmeAdminId}`, { tenants: ['*'] })).toMatchObject(forbidden);
    expect((await acmeAdmin.patch(`/api/v1/users/${mine.body.id}`, { tenants: [] })).status).toBe(200);

    const other = await createUser('tc-other', [], ['globex']);
    expect(await acmeAdmin.patch(`/api/v1/users/${other.id}`, { password: 'taken-over-pass-1' })).toMatchObject(
      forbidden,
    );
    expect(await acmeAdmin.patch(`/api/v1/users/${other.id}`, { enabled: false })).toMatchObject(forbidden);
    expect(await acmeAdmin.post(`/api/v1/users/${other.id}/tokens`, { name: 'mine' })).toMatchObject(forbidden);
    expect(await acmeAdmin.del(`/api/v1/users/${other.id}/credentials`)).toMatchObject(forbidden);
    expect(await acmeAdmin.del(`/api/v1/users/${other.id}`)).toMatchObject(forbidden);
    // Untouched: the password works, the user is there and enabled.
    expect((await login(stack, other.username, other.password)).access_token).toEqual(expect.any(String));
    expect((await admin.get(`/api/v1/users/${other.id}`)).body).toMatchObject({ enabled: true, tenants: ['globex'] });
  });

  it('clients: creates none of, moves none into, and takes over none of another tenant', async () => {
    const client = (clientId: string, tenants: string[]) => acmeAdmin.post('/api/v1/clients', { clientId, tenants });
    expect(await client('tc-star', ['*'])).toMatchObject(forbidden);
    expect(await client('tc-globex', ['globex'])).toMatchObject(forbidden);
    expect((await admin.get('/api/v1/clients/tc-star')).status).toBe(404);
    expect((await client('tc-acme', ['acme'])).status).toBe(201);
    expect(await acmeAdmin.patch('/api/v1/clients/tc-acme', { tenants: ['globex'] })).toMatchObject(forbidden);

    expect((await admin.post('/api/v1/clients', { clientId: 'tc-theirs', tenants: ['globex'] })).status).toBe(201);
    expect(await acmeAdmin.patch('/api/v1/clients/tc-theirs', { rotateSecret: true })).toMatchObject(forbidden);
    expect(await acmeAdmin.post('/api/v1/clients/tc-theirs/api-keys', { name: 'k' })).toMatchObject(forbidden);
    expect(await acmeAdmin.put('/api/v1/clients/tc-theirs/roles/widget')).toMatchObject(forbidden);
    expect(await acmeAdmin.post('/api/v1/clients/tc-theirs/disable')).toMatchObject(forbidden);
    expect(await acmeAdmin.del('/api/v1/clients/tc-theirs')).toMatchObject(forbidden);
    expect((await admin.get('/api/v1/clients/tc-theirs')).body).toMatchObject({ enabled: true, roles: [] });
  });

  it('an administrator holding no tenant still grants any', async () => {
    const boss = await createUser('tc-boss', ['admin'], []);
    const asBoss = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    expect(
      (await asBoss.post('/api/v1/users', { username: 'tc-any', password: 'tc-any-password-1', tenants: ['*'] }))
        .status,
    ).toBe(201);
    expect((await asBoss.post('/api/v1/clients', { clientId: 'tc-any', tenants: ['globex'] })).status).toBe(201);
  });
});
