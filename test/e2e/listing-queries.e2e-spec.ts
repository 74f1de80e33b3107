import { api, expectRefused, jwtClaims } from '../support/fixtures';
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

const revokedCount = async () =>
  Number((await stack.query<{ n: string }>(`SELECT count(*) AS n FROM access_tokens WHERE revoked`))[0].n);

/**
 * Walks `path` two by two through nextCursor and checks the pages give the whole list (which must
 * name exactly `names`), in its order.
 */
async function expectPagesInListOrder(path: string, names: string[]): Promise<void> {
  const all = await admin.get(path);
  expect(all).toMatchObject({ status: 200, body: { nextCursor: null } });
  const listed = all.body.items.map((p: { name: string }) => p.name);
  expect([...listed].sort()).toEqual(names);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const r = await admin.get(`${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(2);
    seen.push(...r.body.items.map((p: { name: string }) => p.name));
    cursor = r.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual(listed);
}

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

  // Date.parse takes these; PostgreSQL does not (they failed the query: a 500).
  it.each(['12', '1 2', '2020-02-30T00:00:00.000Z', '-010000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z'])(
    'a cursor keyed on the timestamp %j → 400 naming cursor on every timestamp-keyed listing',
    async (ts) => {
      const cursor = Buffer.from(JSON.stringify([ts, '3f1b0a52-8a4c-4f57-9d1c-0d4f7a6c2b11'])).toString('base64url');
      for (const path of ['/api/v1/tokens', '/api/v1/tokens/all', '/api/v1/audit', '/api/v1/users/me/tokens']) {
        const r = await admin.get(`${path}?cursor=${cursor}`);
        expectRefused(path, r, ['cursor']);
      }
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

describe("the PAT listings take the listings' query, and nothing else", () => {
  let userId: string;
  const names = ['pat-1', 'pat-2', 'pat-3'];

  beforeAll(async () => {
    userId = (await admin.get('/api/v1/users/me')).body.id;
    for (const name of names) expect((await admin.post('/api/v1/users/me/tokens', { name })).status).toBe(201);
  });

  it.each(['/api/v1/users/me/tokens', 'by id'])(
    '%s: unknown fields and a bad cursor or limit are 400',
    async (which) => {
      const path = which === 'by id' ? `/api/v1/users/${userId}/tokens` : which;
      expectRefused('foo', await admin.get(`${path}?foo=1`), ['foo']);
      expectRefused('cursor', await admin.get(`${path}?cursor=zzz`), ['cursor']);
      expectRefused('limit', await admin.get(`${path}?limit=0`), ['limit']);
      expectRefused('limit', await admin.get(`${path}?limit=x&bar=2`), ['bar', 'limit']);
    },
  );

  it.each(['/api/v1/users/me/tokens', 'by id'])('%s pages with limit and cursor', async (which) => {
    await expectPagesInListOrder(which === 'by id' ? `/api/v1/users/${userId}/tokens` : which, names);
  });
});

// Python's requests and httpx send a boolean parameter as "True"/"False".
describe('a boolean filter reads true/false in any case', () => {
  it.each([
    ['/api/v1/tokens?exclude_expired=True', '/api/v1/tokens?exclude_expired=true'],
    ['/api/v1/tokens/all?exclude_expired=TRUE', '/api/v1/tokens/all?exclude_expired=true'],
    ['/api/v1/users?enabled=False', '/api/v1/users?enabled=false'],
    ['/api/v1/audit?success=True&limit=5', '/api/v1/audit?success=true&limit=5'],
  ])('GET %s answers as the lower-case form', async (path, lower) => {
    const [r, expected] = [await admin.get(path), await admin.get(lower)];
    expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 200, body: expected.body });
  });
});

// axios (and PHP, Rails, qs) write a list parameter as `name[]=a&name[]=b`.
describe('a list filter may be written name[]=…', () => {
  it.each([
    [
      '/api/v1/tokens/all?client_ids[]=portcullis&client_ids[]=nobody',
      '/api/v1/tokens/all?client_ids=portcullis,nobody',
    ],
    ['/api/v1/tokens/all?client_ids%5B%5D=portcullis', '/api/v1/tokens/all?client_ids=portcullis'],
    ['/api/v1/tokens?roles[]=admin', '/api/v1/tokens?roles=admin'],
    ['/api/v1/users?roles%5B%5D=admin&limit=5', '/api/v1/users?roles=admin&limit=5'],
  ])('GET %s answers as %s', async (path, plain) => {
    const [r, expected] = [await admin.get(path), await admin.get(plain)];
    expect(expected.status).toBe(200);
    expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 200, body: expected.body });
  });

  it('other bracketed keys are still unknown fields', async () => {
    expectRefused('roles[0]', await admin.get('/api/v1/tokens?roles[0]=admin'), ['roles[0]']);
    expectRefused('no query here', await admin.get('/api/v1/auth/me?x[]=1'), ['x']);
  });
});

// A client's API keys are as unbounded as a user's PATs: the same query, the same paging.
describe("a client's API key listing pages like the PAT listing", () => {
  const names = ['key-1', 'key-2', 'key-3'];
  const path = '/api/v1/clients/keyring/api-keys';

  beforeAll(async () => {
    expect((await admin.post('/api/v1/clients', { clientId: 'keyring', roles: ['service'] })).status).toBe(201);
    for (const name of names) expect((await admin.post(path, { name })).status).toBe(201);
  });

  it('pages with limit and cursor, in the order of the whole list', async () => {
    await expectPagesInListOrder(path, names);
  });

  it('unknown fields and a bad cursor or limit are 400', async () => {
    expectRefused('foo', await admin.get(`${path}?foo=1`), ['foo']);
    expectRefused('cursor', await admin.get(`${path}?cursor=zzz`), ['cursor']);
    expectRefused('limit', await admin.get(`${path}?limit=0`), ['limit']);
  });
});

describe('routes that take no query refuse one', () => {
  it('POST /tokens/cleanup?x=1 → 400 naming x, and nothing is purged', async () => {
    // A session of its own to expire: the admin's token must stay on record (writes check it there).
    const spare = (await login(stack)).access_token;
    const { jti } = jwtClaims(spare);
    await stack.query(`UPDATE access_tokens SET expires_at = now() - interval '1 day' WHERE tid = $1`, [jti]);
    const count = async () =>
      Number((await stack.query<{ n: string }>(`SELECT count(*) AS n FROM access_tokens`))[0].n);
    const before = await count();
    expectRefused('cleanup', await admin.post('/api/v1/tokens/cleanup?x=1'), ['x']);
    expect(await count()).toBe(before);
    expect(await admin.post('/api/v1/tokens/cleanup')).toMatchObject({ status: 200, body: { accessTokens: 1 } });
  });

  it.each([
    ['DELETE', '/api/v1/tokens?roles=user', ['roles']],
    ['GET', '/api/v1/auth/me?x=1&y=2', ['x', 'y']],
    ['GET', '/api/v1/keys?limit=1', ['limit']],
  ])('%s %s → 400 naming the fields', async (method, path, fields) => {
    const r = method === 'GET' ? await admin.get(path) : await admin.del(path);
    expectRefused(path, r, fields);
  });

  it('an empty query string is no query', async () => {
    expect((await admin.post('/api/v1/tokens/cleanup?')).status).toBe(200);
  });
});

describe('the users listing searches by username prefix, roles and state', () => {
  it('narrows by each filter and by all of them together; LIKE wildcards are literal', async () => {
    const make = (username: string, roles: string[], enabled = true) =>
      admin.post('/api/v1/users', { username, password: `${username}-password-1`, roles, enabled });
    for (const [u, roles, enabled] of [
      ['search-ops-1', ['user', 'ops'], true],
      ['Search-ops-2', ['user', 'ops'], false],
      ['search-dev-1', ['user'], true],
      ['searchxops', ['user', 'ops'], true],
    ] as Array<[string, string[], boolean]>)
      expect((await make(u, roles, enabled)).status).toBe(201);
    const names = async (query: string) => {
      const r = await admin.get(`/api/v1/users?${query}`);
      expect(r.status).toBe(200);
      return (r.body.items as Array<{ username: string }>).map((u) => u.username);
    };
    expect(await names('username=SEARCH-')).toEqual(['search-dev-1', 'search-ops-1', 'Search-ops-2']);
    expect(await names('username=search-&roles=ops')).toEqual(['search-ops-1', 'Search-ops-2']);
    expect(await names('username=search-&roles=ops&enabled=true')).toEqual(['search-ops-1']);
    expect(await names('username=search-&enabled=false')).toEqual(['Search-ops-2']);
    // `_` would match any character in LIKE: here it is only itself.
    expect(await names('username=search_')).toEqual([]);
    // Paging goes on within the filter.
    const first = await admin.get('/api/v1/users?username=search&limit=2');
    const rest = await admin.get(`/api/v1/users?username=search&limit=2&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...rest.body.items].map((u: { username: string }) => u.username)).toEqual([
      'search-dev-1',
      'search-ops-1',
      'Search-ops-2',
      'searchxops',
    ]);
    expectRefused('bad prefix', await admin.get('/api/v1/users?username=a%25b'), ['username']);
    expectRefused('bad state', await admin.get('/api/v1/users?enabled=maybe'), ['enabled']);
  });
});

describe('a date-time JavaScript or PostgreSQL cannot read is refused as bad input', () => {
  // ISO 8601 forms the strict validator took: PostgreSQL refused some (the query failed: a 500),
  // JavaScript others (an Invalid Date reached the insert: a 500).
  const odd = ['2030-W01', '20300101', '-2030-01-01', '2030-01-01T00Z'];

  it.each(odd)('GET /audit?since=%s → 400 naming since', async (since) => {
    expectRefused(since, await admin.get(`/api/v1/audit?since=${encodeURIComponent(since)}`), ['since']);
  });

  it.each(odd)('a PAT or an API key expiring at %s → 400 naming expiresAt, nothing made', async (expiresAt) => {
    expectRefused('pat', await admin.post('/api/v1/users/me/tokens', { name: 'odd', expiresAt }), ['expiresAt']);
    await admin.post('/api/v1/clients', { clientId: 'odd-dates' });
    expectRefused('api key', await admin.post('/api/v1/clients/odd-dates/api-keys', { name: 'odd', expiresAt }), [
      'expiresAt',
    ]);
    expect(await stack.query(`SELECT 1 FROM personal_access_tokens WHERE name = 'odd'`)).toEqual([]);
  });

  it('a plain date-time with an offset still works', async () => {
    expect((await admin.get('/api/v1/audit?since=2020-01-01T00:00:00%2B02:00')).status).toBe(200);
    const at = new Date(Date.now() + 86400_000).toISOString().replace('Z', '+00:00');
    const pat = await admin.post('/api/v1/users/me/tokens', { name: 'plain', expiresAt: at });
    expect(pat.status).toBe(201);
  });
});
