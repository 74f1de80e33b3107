import { clientHelpers } from '../support/clients';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * auth-core builds a client_credentials token from the client row as it last read it and records
 * the token only if the row, when the token is written, is still that row. These tests change the
 * row behind auth-core's back (plain SQL, as another replica or an operator would) and through the
 * API, and check that the very next request is judged on the row as it now is, and that a token
 * built from the stale row is neither answered nor recorded.
 */
describe('client_credentials is judged on the client row as it is when the token is recorded', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;
  const { duringRoleRemoval } = clientHelpers(stack, () => admin);
  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const cc = async (id: string, secret: string, scope?: string) => {
    const res = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const tidOf = (body: Record<string, unknown>) =>
    (JSON.parse(Buffer.from(String(body.access_token).split('.')[1], 'base64url').toString()) as { jti: string }).jti;
  const recorded = async (clientId: string) => {
    const [t] = await stack.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_tokens WHERE cid = $1`, [
      clientId,
    ]);
    const [a] = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'token.issued' AND subject = $1`,
      [clientId],
    );
    return { tokens: t.n, audits: a.n };
  };
  const createClient = async (clientId: string, roles: string[]) => {
    const r = await admin.post('/api/v1/clients', { clientId, roles });
    expect(r.status).toBe(201);
    const secret = (r.body as { client_secret: string }).client_secret;
    // The first token makes auth-core remember the row.
    expect((await cc(clientId, secret)).status).toBe(200);
    return secret;
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('disabled in the database: the next request is refused and nothing is recorded; enabled again: served', async () => {
    const secret = await createClient('cc-disabled', ['service']);
    const before = await recorded('cc-disabled');
    await stack.query(`UPDATE clients SET enabled = false WHERE client_id = 'cc-disabled'`);
    const refused = await cc('cc-disabled', secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(await recorded('cc-disabled')).toEqual(before);

    await stack.query(`UPDATE clients SET enabled = true WHERE client_id = 'cc-disabled'`);
    expect((await cc('cc-disabled', secret)).status).toBe(200);
    expect(await recorded('cc-disabled')).toEqual({ tokens: before.tokens + 1, audits: before.audits + 1 });
  });

  it('secret rotated through the API: the old secret is refused at once, the new one works', async () => {
    const old = await createClient('cc-rotated', ['service']);
    const rotated = await admin.patch('/api/v1/clients/cc-rotated', { rotateSecret: true });
    expect(rotated.status).toBe(200);
    const fresh = (rotated.body as { client_secret: string }).client_secret;
    expect(fresh).toBeTruthy();
    const before = await recorded('cc-rotated');
    expect((await cc('cc-rotated', old)).status).toBe(401);
    expect(await recorded('cc-rotated')).toEqual(before);
    expect((await cc('cc-rotated', fresh)).status).toBe(200);
    expect((await cc('cc-rotated', old)).status).toBe(401);
  });

  it('secret hash replaced in the database: the remembered row no longer authenticates anybody', async () => {
    const secret = await createClient('cc-rehashed', ['service']);
    await stack.query(`UPDATE clients SET secret_hash = '\\x00'::bytea || secret_hash WHERE client_id = 'cc-rehashed'`);
    const before = await recorded('cc-rehashed');
    expect((await cc('cc-rehashed', secret)).status).toBe(401);
    expect(await recorded('cc-rehashed')).toEqual(before);
  });

  it('roles, tenants and the lifetime cap changed in the database: the next token carries the new ones', async () => {
    const secret = await createClient('cc-changed', ['service', 'reader']);
    await stack.query(
      `UPDATE clients SET roles = '{reader}', tenants = '{acme}', max_token_lifetime = 60 WHERE client_id = 'cc-changed'`,
    );
    const t = await cc('cc-changed', secret);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ roles: ['reader'], expires_in: 60 });
    const [row] = await stack.query<{ roles: string[]; tenants: string[] }>(
      `SELECT roles, tenants FROM access_tokens WHERE tid = $1`,
      [tidOf(t.body)],
    );
    expect(row).toEqual({ roles: ['reader'], tenants: ['acme'] });
    // A scope the client held when it was remembered, but no longer holds, is refused.
    const scoped = await cc('cc-changed', secret, 'service');
    expect(scoped.status).toBe(400);
    expect(scoped.body.error).toBe('invalid_scope');
  });

  it('deleted in the database: refused, nothing recorded', async () => {
    const secret = await createClient('cc-deleted', ['service']);
    await stack.query(`DELETE FROM access_tokens WHERE cid = 'cc-deleted'`);
    await stack.query(`DELETE FROM clients WHERE client_id = 'cc-deleted'`);
    expect((await cc('cc-deleted', secret)).status).toBe(401);
    expect((await recorded('cc-deleted')).tokens).toBe(0);
  });

  /**
   * A role removed with `revoke_tokens=true` while a grant is on its way: the grant read the row
   * before the change committed. Whichever commits first, the token must not come out with the
   * removed role and unrevoked.
   */
  it.each([
    ['remembered', true],
    ['read afresh', false],
  ])(
    'a role removed with revoke_tokens while a grant (client %s) is recorded: its token never keeps the role unrevoked',
    async (_label, remembered) => {
      const id = `cc-race-${remembered ? 'mem' : 'fresh'}`;
      const secret = await createClient(id, ['service', 'reader']);
      // The first token makes auth-core remember the row; a PATCH through the API makes it read again.
      if (!remembered)
        expect((await admin.patch(`/api/v1/clients/${id}`, { description: 'read afresh' })).status).toBe(200);
      const { change, result: t } = await duringRoleRemoval(id, 'reader', () => cc(id, secret));
      expect(change).toBe(200);
      expect(t.status).toBe(200);
      const [row] = await stack.query<{ roles: string[]; revoked: boolean }>(
        `SELECT roles, revoked FROM access_tokens WHERE tid = $1`,
        [tidOf(t.body)],
      );
      expect(row.revoked || !row.roles.includes('reader')).toBe(true);
      expect(row.revoked || !(t.body.roles as string[]).includes('reader')).toBe(true);
    },
  );

  it('many requests at once: every token answered is recorded once with its audit row, none twice', async () => {
    const secret = await createClient('cc-burst', ['service']);
    const before = await recorded('cc-burst');
    const answers = await Promise.all(Array.from({ length: 60 }, () => cc('cc-burst', secret)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const tids = answers.map((a) => tidOf(a.body));
    expect(new Set(tids).size).toBe(60);
    const rows = await stack.query<{ tid: string }>(`SELECT tid FROM access_tokens WHERE tid = ANY($1::uuid[])`, [
      tids,
    ]);
    expect(rows).toHaveLength(60);
    const audits = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'token.issued' AND data->>'tid' = ANY($1::text[])`,
      [tids],
    );
    expect(audits[0].n).toBe(60);
    expect(await recorded('cc-burst')).toEqual({ tokens: before.tokens + 60, audits: before.audits + 60 });
  });
});
