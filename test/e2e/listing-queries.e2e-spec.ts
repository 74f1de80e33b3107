import { api, ReplyBody } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * The query strings of the listings (and of `DELETE /tokens/all`, which takes the listing's
 * filters): a filter, cursor or field the API cannot honour is refused with 400 naming it, never
 * dropped and answered as if it had not been sent.
 */
const stack = new Stack();
let admin: ReturnType<typeof api>;

beforeAll(async () => {
  await stack.start();
  admin = api(stack, (await login(stack)).access_token);
}, 60000);
afterAll(() => stack.stop(), 60000);

const fieldsOf = (body: ReplyBody | null) => (body?.error?.data?.fields ?? []).map((f) => f.field).sort();

/** 400 in the envelope, naming exactly `fields`. */
function expectRefused(label: string, r: { status: number; body: ReplyBody | null }, fields: string[]) {
  expect({ label, status: r.status, envelope: r.body?.status, fields: fieldsOf(r.body) }).toEqual({
    label,
    status: 400,
    envelope: 'BAD_REQUEST',
    fields: [...fields].sort(),
  });
}

const revokedCount = async () =>
  Number((await stack.query<{ n: string }>(`SELECT count(*) AS n FROM access_tokens WHERE revoked`))[0].n);

describe('an empty list filter is refused, not read as "no filter"', () => {
  it.each([
    ['?client_ids=', ['client_ids']],
    ['?client_ids=,', ['client_ids']],
    ['?roles=', ['roles']],
    ['?roles=&client_ids=', ['roles', 'client_ids']],
  ])('DELETE /tokens/all%s → 400 naming it, and nothing is revoked', async (query, fields) => {
    const others = await Promise.all([login(stack), login(stack)]);
    const before = await revokedCount();
    expectRefused(query, await admin.del(`/api/v1/tokens/all${query}`), fields);
    expect(await revokedCount()).toBe(before);
    for (const t of others) expect((await api(stack, t.access_token).get('/api/v1/auth/me')).status).toBe(200);
  });

  it.each([
    ['/api/v1/tokens/all?client_ids=', ['client_ids']],
    ['/api/v1/tokens/all?roles=,', ['roles']],
    ['/api/v1/tokens?roles=', ['roles']],
    ['/api/v1/clients?roles=', ['roles']],
    ['/api/v1/clients?roles=,,', ['roles']],
  ])('GET %s → 400 naming it', async (path, fields) => {
    expectRefused(path, await admin.get(path), fields);
  });

  it('a filter that names something still filters', async () => {
    expect(await admin.get('/api/v1/tokens/all?client_ids=nobody')).toMatchObject({
      status: 200,
      body: { items: [], nextCursor: null },
    });
    expect(await admin.del('/api/v1/tokens/all?client_ids=nobody')).toMatchObject({ status: 200, body: { count: 0 } });
  });
});

describe('a cursor the API did not return is refused on every listing', () => {
  it.each(['/api/v1/clients', '/api/v1/users', '/api/v1/tokens', '/api/v1/tokens/all', '/api/v1/audit'])(
    'GET %s?cursor=garbage → 400 naming cursor',
    async (path) => {
      const r = await admin.get(`${path}?cursor=garbage`);
      expectRefused(path, r, ['cursor']);
      expect(r.body?.message).toBe('Invalid cursor');
    },
  );

  it('the old form of a clients or users cursor (the bare key in base64url) is refused too', async () => {
    const bare = Buffer.from('admin').toString('base64url');
    expectRefused('clients', await admin.get(`/api/v1/clients?cursor=${bare}`), ['cursor']);
    expectRefused('users', await admin.get(`/api/v1/users?cursor=${bare}`), ['cursor']);
  });

  it.each([
    ['/api/v1/clients', 'clientId'],
    ['/api/v1/users', 'username'],
  ])('the cursors %s returns page through it, one row at a time', async (path, key) => {
    if (path === '/api/v1/clients')
      for (const clientId of ['pager-a', 'pager-b', 'pager-c'])
        expect((await admin.post('/api/v1/clients', { clientId })).status).toBe(201);
    else
      for (const username of ['pager-a', 'pager-b'])
        expect((await admin.post('/api/v1/users', { username, password: `${username}-Secret-9x7` })).status).toBe(201);
    const all = ((await admin.get(`${path}?limit=200`)).body.items as Array<Record<string, string>>).map((i) => i[key]);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await admin.get(`${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...(r.body.items as Array<Record<string, string>>).map((i) => i[key]));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });
});
