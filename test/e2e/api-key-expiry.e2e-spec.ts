import { api, expectRefused, inDays } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * API_KEY_MAX_TTL_DAYS bounds an API key's `expiresAt` as PAT_MAX_TTL_DAYS bounds a PAT's: further
 * out is refused naming the field, left out is the longest allowed (a key with no expiry at all
 * is what the default, 0, allows).
 */
describe('API key lifetime bound (API_KEY_MAX_TTL_DAYS)', () => {
  const stack = new Stack({ env: { API_KEY_MAX_TTL_DAYS: '30' } });
  let admin: ReturnType<typeof api>;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    expect((await admin.post('/api/v1/clients', { clientId: 'batch', roles: ['service'] })).status).toBe(201);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('refuses an expiresAt past the bound or in the past, naming the field', async () => {
    for (const [label, expiresAt] of [
      ['31 days', inDays(31)],
      ['year 9999', '9999-12-31T23:59:59Z'],
      ['yesterday', inDays(-1)],
    ])
      expectRefused(
        label,
        await admin.post('/api/v1/clients/batch/api-keys', { name: `k${label.length}`, expiresAt }),
        ['expiresAt'],
      );
    expect((await admin.get('/api/v1/clients/batch/api-keys')).body.items).toEqual([]);
  });

  it('takes one within the bound, and gives one without expiresAt the longest allowed', async () => {
    const within = await admin.post('/api/v1/clients/batch/api-keys', { name: 'month', expiresAt: inDays(29) });
    expect(within.status).toBe(201);
    const open = await admin.post('/api/v1/clients/batch/api-keys', { name: 'open' });
    expect(open.status).toBe(201);
    const days = (Date.parse(open.body.expiresAt as string) - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });
});
