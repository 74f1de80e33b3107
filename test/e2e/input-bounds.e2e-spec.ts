import { api, expectRefused, ReplyBody } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * What the DTOs allow is what the routes take: an id accepted at creation can be addressed in every
 * path that names it, and the bound past that still answers 400 in the envelope.
 */
const stack = new Stack();
let admin: ReturnType<typeof api>;

beforeAll(async () => {
  await stack.start();
  admin = api(stack, (await login(stack)).access_token);
}, 60000);
afterAll(() => stack.stop(), 60000);

describe('path parameters as long as the DTOs allow', () => {
  it('a client with a 128-character id can be read, updated, disabled and deleted over HTTP', async () => {
    const id = `c${'x'.repeat(126)}9`;
    expect(id).toHaveLength(128);
    expect((await admin.post('/api/v1/clients', { clientId: id, roles: ['service'] })).status).toBe(201);
    const path = `/api/v1/clients/${id}`;
    expect(await admin.get(path)).toMatchObject({ status: 200, body: { clientId: id } });
    expect(await admin.patch(path, { description: 'long id' })).toMatchObject({
      status: 200,
      body: { clientId: id, description: 'long id' },
    });
    expect(await admin.post(`${path}/disable`)).toMatchObject({ status: 200, body: { enabled: false } });
    expect((await admin.put(`${path}/roles/reader`)).status).toBe(200);
    expect(await admin.post(`${path}/api-keys`, { name: 'k' })).toMatchObject({ status: 201 });
    expect((await admin.del(path)).status).toBe(204);
    expect((await admin.get(path)).status).toBe(404);
  });

  it('a PAT is deleted by a name of 128 characters, spaces and all', async () => {
    const name = `pat ${'n'.repeat(120)} end`;
    expect(name).toHaveLength(128);
    expect((await admin.post('/api/v1/users/me/tokens', { name })).status).toBe(201);
    expect((await admin.del(`/api/v1/users/me/tokens/${encodeURIComponent(name)}`)).status).toBe(204);
  });

  it('a path parameter past the longest any DTO allows is still refused as bad input', async () => {
    const r = await admin.get(`/api/v1/clients/${'x'.repeat(300)}`);
    expect(r).toMatchObject({ status: 400, body: { status: 'BAD_REQUEST', message: 'A path parameter is too long' } });
  });
});

describe('a list that names the same value twice is refused, not stored as given', () => {
  const refused = (r: { status: number; body: ReplyBody | null }, fields: string[]) =>
    expectRefused(fields.join(' '), r, fields);

  it('POST and PATCH /clients: roles and tenants', async () => {
    refused(await admin.post('/api/v1/clients', { clientId: 'dup', roles: ['service', 'service'] }), ['roles']);
    refused(
      await admin.post('/api/v1/clients', { clientId: 'dup', roles: ['service', 'service'], tenants: ['t1', 't1'] }),
      ['roles', 'tenants'],
    );
    expect((await admin.get('/api/v1/clients/dup')).status).toBe(404);
    expect((await admin.post('/api/v1/clients', { clientId: 'dup', roles: ['service'], tenants: ['t1'] })).status).toBe(
      201,
    );
    refused(await admin.patch('/api/v1/clients/dup', { tenants: ['t1', 't2', 't1'] }), ['tenants']);
    expect((await admin.get('/api/v1/clients/dup')).body).toMatchObject({ roles: ['service'], tenants: ['t1'] });
  });

  it('POST and PATCH /users: roles and tenants', async () => {
    const password = 'dup-user-Password-9';
    refused(await admin.post('/api/v1/users', { username: 'dup', password, roles: ['user', 'user'] }), ['roles']);
    const created = await admin.post('/api/v1/users', { username: 'dup', password, tenants: ['a', 'b'] });
    expect(created.status).toBe(201);
    refused(await admin.patch(`/api/v1/users/${created.body.id}`, { tenants: ['a', 'a'] }), ['tenants']);
    expect((await admin.get(`/api/v1/users/${created.body.id}`)).body.tenants).toEqual(['a', 'b']);
  });

  it('PATs, API keys and tokens: permissions, tenants and roles', async () => {
    refused(await admin.post('/api/v1/users/me/tokens', { name: 'dup', permissions: ['users:read', 'users:read'] }), [
      'permissions',
    ]);
    refused(await admin.post('/api/v1/users/me/tokens', { name: 'dup', tenants: ['*', '*'] }), ['tenants']);
    refused(await admin.post('/api/v1/clients/dup/api-keys', { permissions: ['token:validate', 'token:validate'] }), [
      'permissions',
    ]);
    refused(await admin.post('/api/v1/tokens', { roles: ['admin', 'admin'] }), ['roles']);
    refused(await admin.get('/api/v1/tokens/all?client_ids=dup,dup'), ['client_ids']);
    expect((await admin.get('/api/v1/users/me/tokens')).body.items.map((p: { name: string }) => p.name)).not.toContain(
      'dup',
    );
  });

  it('validation requirements are not stored: a repeat there is still answered', async () => {
    const token = (await login(stack)).access_token;
    const r = await fetch(`${stack.url}/api/v1/auth/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, roles: ['admin', 'admin'] }),
    });
    expect(await r.json()).toMatchObject({ valid: true });
  });
});
