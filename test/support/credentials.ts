import { SUBJECTS } from '@portcullis/contracts';
import { api } from './fixtures';
import { Stack, within } from './stack';

/**
 * What the users, PATs and API keys suites (test/e2e/credentials-*.e2e-spec.ts) ask of their stack:
 * validate over NATS, wait until every replica refuses a token, exchange an API key, create a user
 * through the admin API. `admin` is the admin's API client, set by the suite's beforeAll.
 */
export function credentialHelpers(stack: Stack, admin: () => ReturnType<typeof api>) {
  const validate = (token: string, extra: Record<string, unknown> = {}) =>
    stack.natsRequest<{ valid: boolean; claims?: Record<string, unknown>; error?: { code: string } }>(
      SUBJECTS.TOKEN_VALIDATE,
      { token, ...extra },
    );
  const everywhereInvalid = (token: string) =>
    within(1000, async () =>
      (await Promise.all(Array.from({ length: 8 }, () => validate(token)))).every((r) => !r.valid),
    );
  const exchange = (apiKey: unknown) =>
    fetch(`${stack.url}/api/v1/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
  const createUser = async (username: string, roles = ['user'], tenants: string[] = ['acme']) => {
    const password = `${username}-password-123`;
    const r = await admin().post('/api/v1/users', { username, password, roles, tenants });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ username, roles, tenants, enabled: true, source: 'local' });
    return { id: r.body.id as string, username, password };
  };
  return { validate, everywhereInvalid, exchange, createUser };
}
