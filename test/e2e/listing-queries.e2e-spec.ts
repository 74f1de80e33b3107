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
