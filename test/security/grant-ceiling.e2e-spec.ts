import { clientHelpers } from '../support/clients';
import { credentialHelpers } from '../support/credentials';
import { api, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * `clients:write` and `users:write` are not `admin`: a credential holding one of them (a PAT an
 * administrator narrowed to it, or a role ROLE_PERMISSIONS gives it) grants no role carrying a
 * permission it lacks, and takes over or changes no principal that holds one. Before, a PAT narrowed
 * to clients:write created an `admin` client (and so was an administrator through
 * client_credentials), added `admin` to a client, rotated an admin client's secret and issued it an
 * API key.
 */
describe('a write permission grants no more than its holder has', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;
  const { createUser, exchange } = credentialHelpers(stack, () => admin);
  const { createClient, cc } = clientHelpers(stack, () => admin);
  const forbidden = { status: 403, body: expect.objectContaining({ status: 'FORBIDDEN' }) };

  /** A PAT of an administrator, narrowed to `permissions`. */
  const narrowedPat = async (name: string, permissions: string[]) => {
    const boss = await createUser(`${name}-boss`, ['admin'], ['*']);
    const session = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    const pat = await session.post('/api/v1/users/me/tokens', { name, permissions });
    expect(pat.status).toBe(201);
    return { boss, pat: api(stack, pat.body.token as string) };
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('clients:write creates no client with, and adds no role of, permissions it lacks', async () => {
    const { pat } = await narrowedPat('cw', ['clients:read', 'clients:write']);

    expect(await pat.post('/api/v1/clients', { clientId: 'gc-root', roles: ['admin'] })).toMatchObject(forbidden);
    expect(await pat.post('/api/v1/clients', { clientId: 'gc-sys', roles: ['system'] })).toMatchObject(forbidden);
    expect(await pat.post('/api/v1/clients', { clientId: 'gc-svc', roles: ['service'] })).toMatchObject(forbidden);
    expect((await admin.get('/api/v1/clients/gc-root')).status).toBe(404);

    // A client with no role (or roles that carry no permission) is within what it holds.
    const bare = await pat.post('/api/v1/clients', { clientId: 'gc-bare', roles: ['widget-reader'] });
    expect(bare.status).toBe(201);
    expect(await pat.put('/api/v1/clients/gc-bare/roles/admin')).toMatchObject(forbidden);
    expect(await pat.patch('/api/v1/clients/gc-bare', { roles: ['admin'] })).toMatchObject(forbidden);
    expect((await admin.get('/api/v1/clients/gc-bare')).body.roles).toEqual(['widget-reader']);
    expect((await pat.put('/api/v1/clients/gc-bare/roles/widget-writer')).status).toBe(200);
    expect((await pat.patch('/api/v1/clients/gc-bare', { description: 'mine' })).status).toBe(200);
    const token = await cc('gc-bare', bare.body.client_secret);
    expect(token.status).toBe(200);
    expect((await readJson<{ roles: string[] }>(token)).roles).toEqual(['widget-reader', 'widget-writer']);
  });

  it('clients:write takes over no client holding permissions it lacks', async () => {
    const { pat } = await narrowedPat('cw2', ['clients:read', 'clients:write']);
    const { client_secret: secret } = await createClient('gc-admin', ['admin']);

    expect(await pat.patch('/api/v1/clients/gc-admin', { rotateSecret: true })).toMatchObject(forbidden);
    expect(await pat.patch('/api/v1/clients/gc-admin', { maxTokenLifetime: null })).toMatchObject(forbidden);
    expect(await pat.post('/api/v1/clients/gc-admin/api-keys', { name: 'k' })).toMatchObject(forbidden);
    expect(await pat.del('/api/v1/clients/gc-admin/roles/admin')).toMatchObject(forbidden);
    expect(await pat.post('/api/v1/clients/gc-admin/disable')).toMatchObject(forbidden);
    expect(await pat.del('/api/v1/clients/gc-admin')).toMatchObject(forbidden);
    // Nothing changed: the secret works, no key was issued, the client is there with its role.
    expect((await cc('gc-admin', secret)).status).toBe(200);
    expect((await admin.get('/api/v1/clients/gc-admin/api-keys')).body.items).toEqual([]);
    expect((await admin.get('/api/v1/clients/gc-admin')).body).toMatchObject({ roles: ['admin'], enabled: true });
    // Reading is not changing.
    expect((await pat.get('/api/v1/clients/gc-admin')).status).toBe(200);

    // The same PAT widened to a service client's permissions manages service clients.
    const { pat: wider } = await narrowedPat('cw3', [
      'clients:read',
      'clients:write',
      'tokens:read',
      'tokens:write',
      'token:validate',
    ]);
    expect((await wider.post('/api/v1/clients', { clientId: 'gc-svc2', roles: ['service'] })).status).toBe(201);
    const key = await wider.post('/api/v1/clients/gc-svc2/api-keys', { name: 'k' });
    expect(key.status).toBe(201);
    expect((await exchange(key.body.apiKey)).status).toBe(200);
    expect(await wider.put('/api/v1/clients/gc-svc2/roles/system')).toMatchObject(forbidden);
    expect((await wider.post('/api/v1/clients/gc-svc2/disable')).status).toBe(200);
    expect((await wider.del('/api/v1/clients/gc-svc2')).status).toBe(204);
    // An administrator's own session still may do all of it.
    expect((await admin.patch('/api/v1/clients/gc-admin', { rotateSecret: true })).status).toBe(200);
  });

  it('users:write grants no role of permissions it lacks and takes over no wider user', async () => {
    const { boss, pat } = await narrowedPat('uw', ['users:read', 'users:write']);
    const victim = await createUser('uw-victim', ['admin'], ['*']);
    const password = 'a-Fresh-password-9';

    expect(await pat.post('/api/v1/users', { username: 'uw-root', password, roles: ['admin'] })).toMatchObject(
      forbidden,
    );
    // Without roles a user gets `user`, whose permissions this PAT lacks too.
    expect(await pat.post('/api/v1/users', { username: 'uw-plain', password })).toMatchObject(forbidden);
    expect(await pat.patch(`/api/v1/users/${victim.id}`, { password })).toMatchObject(forbidden);
    expect(await pat.patch(`/api/v1/users/${victim.id}`, { enabled: false })).toMatchObject(forbidden);
    expect(await pat.del(`/api/v1/users/${victim.id}`)).toMatchObject(forbidden);
    expect(await pat.post(`/api/v1/users/${victim.id}/revoke`)).toMatchObject(forbidden);
    expect(await pat.del(`/api/v1/users/${victim.id}/credentials`)).toMatchObject(forbidden);
    expect(await pat.post(`/api/v1/users/${victim.id}/tokens`, { name: 'mine' })).toMatchObject(forbidden);
    // Its own owner is wider than the PAT as well.
    expect(await pat.patch(`/api/v1/users/${boss.id}`, { password })).toMatchObject(forbidden);

    // Nothing changed: the victim signs in with its password, has no PAT, the users were not made.
    expect((await login(stack, victim.username, victim.password)).roles).toEqual(['admin']);
    expect((await admin.get(`/api/v1/users/${victim.id}/tokens`)).body.items).toEqual([]);
    expect(
      (await admin.get('/api/v1/users?username=uw-')).body.items.map((u: { username: string }) => u.username).sort(),
    ).toEqual(['uw-boss', 'uw-victim']);

    // Users within the PAT's permissions it manages: one with a role that carries none.
    const made = await pat.post('/api/v1/users', { username: 'uw-reader', password, roles: ['widget-reader'] });
    expect(made.status).toBe(201);
    expect(await pat.patch(`/api/v1/users/${made.body.id}`, { roles: ['admin'] })).toMatchObject(forbidden);
    expect((await pat.patch(`/api/v1/users/${made.body.id}`, { enabled: false })).status).toBe(200);
    expect((await pat.post(`/api/v1/users/${made.body.id}/tokens`, { name: 'n' })).status).toBe(201);
    expect((await pat.del(`/api/v1/users/${made.body.id}`)).status).toBe(204);
    // An administrator's session still may.
    expect((await admin.patch(`/api/v1/users/${victim.id}`, { password })).status).toBe(200);
  });
});
