import { SUBJECTS } from '@portcullis/contracts';
import { Client } from 'pg';
import { api } from './fixtures';
import { Stack, within } from './stack';

/**
 * What the clients and OAuth 2 suites (test/e2e/clients-*.e2e-spec.ts) ask of their stack: validate
 * over NATS, wait until every replica agrees, POST a form, Basic credentials, create a client
 * through the admin API, client_credentials. `admin` is the admin's API client, set by the
 * suite's beforeAll.
 */
export function clientHelpers(stack: Stack, admin: () => ReturnType<typeof api>) {
  const natsValid = async (token: string) =>
    (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid;
  const everywhere = (token: string, expected: boolean) =>
    within(1000, async () =>
      (await Promise.all(Array.from({ length: 10 }, () => natsValid(token)))).every((v) => v === expected),
    );
  const form = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    });
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  });
  const createClient = async (clientId: string, roles = ['service']) => {
    const r = await admin().post('/api/v1/clients', { clientId, roles, description: `${clientId} service` });
    expect(r.status).toBe(201);
    return r.body as { clientId: string; client_secret: string };
  };
  const cc = async (id: string, secret: string, extra: Record<string, string> = {}) =>
    form('/oauth/token', { grant_type: 'client_credentials', ...extra }, basic(id, secret));
  /**
   * Removes `role` from a client with `?revoke_tokens=true` and runs `during` inside the change's
   * window: a lock held here on the client's tokens stalls the change's revocation sweep after the
   * role is gone but before it commits, `during` starts then, and the lock goes once `during` has
   * answered or 500 ms have passed (a request that waits for the change cannot answer before it).
   * The client must hold a recorded token.
   */
  const duringRoleRemoval = async <T>(clientId: string, role: string, during: () => Promise<T>) => {
    const holder = new Client({ connectionString: stack.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM access_tokens WHERE cid = $1 FOR UPDATE`, [clientId]);
      const change = admin().del(`/api/v1/clients/${clientId}/roles/${role}?revoke_tokens=true`);
      await stack.lockWaiters(1);
      const result = during();
      await Promise.race([result, new Promise((r) => setTimeout(r, 500))]);
      await holder.query('ROLLBACK');
      return { change: (await change).status, result: await result };
    } finally {
      await holder.end();
    }
  };
  return { natsValid, everywhere, form, basic, createClient, cc, duringRoleRemoval };
}
