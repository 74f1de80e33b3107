import { Client } from 'pg';
import { EVENTS } from '@portcullis/contracts';
import { api, expectRefused, inDays, jwtClaims, seedClient, seedUser } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

const CLEANUP_LOCK_ID = 0x70636c03;

describe('audit trail and scheduled cleanup', () => {
  // CLOCK_SKEW short: an expired token is accepted for 3 s past its exp, and purged 6 s past it.
  const stack = new Stack({ replicas: 2, env: { CLEANUP_INTERVAL_SECONDS: '1', CLOCK_SKEW: '3' } });
  let admin: ReturnType<typeof api>;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('GET /audit lists events newest first, filters them, pages them, and needs audit:read', async () => {
    await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong-wrong-wrong' }),
    });
    const failed = await admin.get('/api/v1/audit?type=login.failed');
    expect(failed.status).toBe(200);
    expect(failed.body.items[0]).toMatchObject({
      type: 'login.failed',
      success: false,
      data: { reason: 'bad_password' },
    });
    const logins = await admin.get('/api/v1/audit?type=login.&limit=1');
    expect(logins.body.items).toHaveLength(1);
    expect(logins.body.nextCursor).toEqual(expect.any(String));
    const next = await admin.get(`/api/v1/audit?type=login.&limit=1&cursor=${logins.body.nextCursor}`);
    expect(next.body.items[0].id).not.toBe(logins.body.items[0].id);
    expect(Date.parse(next.body.items[0].at)).toBeLessThanOrEqual(Date.parse(logins.body.items[0].at));
    expect(
      (await admin.get('/api/v1/audit?success=false')).body.items.every((e: { success: boolean }) => !e.success),
    ).toBe(true);
    expect((await admin.get('/api/v1/audit?type=DROP%20TABLE')).status).toBe(400);
    const user = await seedUser(stack, 'auditee', 'auditee-password-1');
    expect((await api(stack, (await user.login()).access_token).get('/api/v1/audit')).status).toBe(403);
    const bootstrap = await admin.get('/api/v1/audit?type=user.bootstrap');
    expect(bootstrap.body.items).toHaveLength(1);
    expect(JSON.stringify(bootstrap.body)).not.toContain(stack.adminPassword);

    // An update is audited with the fields the request changed, by their API names.
    const auditee = (await admin.get('/api/v1/users')).body.items.find(
      (u: { username: string }) => u.username === 'auditee',
    );
    await admin.patch(`/api/v1/users/${auditee.id}`, { password: 'auditee-reset-password-2' });
    expect((await admin.get('/api/v1/audit?type=user.updated&limit=1')).body.items[0].data).toEqual({
      fields: ['password'],
    });
    await admin.post('/api/v1/clients', { clientId: 'described', roles: ['service'] });
    await admin.patch('/api/v1/clients/described', { description: 'changed' });
    const changed = (await admin.get('/api/v1/audit?type=client.updated&limit=1')).body.items[0];
    expect(changed.data.fields).toEqual(['description']);
  });

  it("revoking a user's tokens is audited with the user as subject, once, whether or not any were live", async () => {
    const user = await seedUser(stack, 'revokee', 'revokee-password-1');
    await user.login();
    const me = (await login(stack)).userId;
    for (const expected of [1, 0]) {
      const r = await admin.post(`/api/v1/users/${user.id}/revoke`);
      expect(r.body.count).toBe(expected);
    }
    const events = (await admin.get(`/api/v1/audit?type=user.tokens_revoked&subject=${user.id}`)).body.items;
    expect(events).toEqual([
      expect.objectContaining({ actor: me, subject: user.id, success: true, data: { count: 0 } }),
      expect.objectContaining({ actor: me, subject: user.id, success: true, data: { count: 1 } }),
    ]);
  });

  it('a failed client authentication and an API-key exchange are audited', async () => {
    const made = await admin.post('/api/v1/clients', { clientId: 'audited-svc', roles: ['service'] });
    const cc = (id: string, secret: string) =>
      fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
      });
    expect((await cc('audited-svc', 'not-the-secret')).status).toBe(401);
    expect((await cc('no-such-client', 'whatever')).status).toBe(401);
    const failures = (await admin.get('/api/v1/audit?type=client.auth_failed&limit=2')).body.items;
    expect(failures).toEqual([
      expect.objectContaining({
        subject: null,
        success: false,
        data: { clientId: 'no-such-client', reason: 'unknown_client' },
      }),
      expect.objectContaining({
        subject: 'audited-svc',
        success: false,
        data: { clientId: 'audited-svc', reason: 'bad_secret' },
      }),
    ]);
    expect(JSON.stringify(failures)).not.toContain('not-the-secret');
    expect((await cc('audited-svc', made.body.client_secret)).status).toBe(200);

    const key = await admin.post('/api/v1/clients/audited-svc/api-keys', { name: 'k' });
    const exchanged = await fetch(`${stack.url}/api/v1/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: key.body.apiKey }),
    });
    const { tid } = (await exchanged.json()) as { tid: string };
    const issued = (await admin.get('/api/v1/audit?type=token.issued&limit=1')).body.items[0];
    expect(issued).toMatchObject({ subject: 'audited-svc', data: { tid, via: 'apikey', keyId: key.body.id } });
    expect(JSON.stringify(issued)).not.toContain(key.body.apiKey);
  });

  it('audits token issue and revocation, and the first use of a PAT from a new address', async () => {
    await seedClient(stack, 'audited', ['service']);
    const t = await admin.post('/api/v1/tokens', { client_id: 'audited' });
    await admin.del(`/api/v1/tokens/${t.body.tid}`);
    const issued = (await admin.get('/api/v1/audit?type=token.issued')).body.items;
    expect(issued.some((e: { data: { tid: string } }) => e.data.tid === t.body.tid)).toBe(true);
    const revoked = (await admin.get('/api/v1/audit?type=token.revoked')).body.items;
    expect(revoked.some((e: { data: { tids: string[] } }) => e.data.tids.includes(t.body.tid))).toBe(true);

    const pat = await admin.post('/api/v1/users/me/tokens', {
      name: 'audited',
      expiresAt: inDays(1),
      permissions: ['tokens:read'],
      tenants: [],
    });
    expect((await api(stack, pat.body.token).get('/api/v1/tokens')).status).toBe(200);
    expect((await api(stack, pat.body.token).get('/api/v1/tokens')).status).toBe(200);
    const uses = async () =>
      (await admin.get('/api/v1/audit?type=pat.used_from_new_ip')).body.items.filter(
        (e: { data: { id: string } }) => e.data.id === pat.body.id,
      );
    await within(2000, async () => (await uses()).length >= 1);
    // Two requests from one address: one event, however many places resolved the PAT.
    expect((await uses()).map((e: { data: { previousIp: unknown } }) => e.data.previousIp)).toEqual([null]);
    expect((await admin.get('/api/v1/audit?type=pat.created')).body.items[0].data.name).toBe('audited');
  });

  it('REST validate audits a PAT from the address the gateway sees; a clientIp in the body is refused', async () => {
    const newPat = async (name: string) =>
      (
        await admin.post('/api/v1/users/me/tokens', {
          name,
          expiresAt: inDays(1),
          permissions: ['tokens:read'],
          tenants: [],
        })
      ).body as { id: string; token: string };
    const addressesOf = async (pat: { id: string }) =>
      (
        (await admin.get('/api/v1/audit?type=pat.used_from_new_ip&limit=100')).body.items as Array<{
          data: { id: string; ip: string; previousIp: string | null };
        }>
      )
        .filter((e) => e.data.id === pat.id)
        .map((e) => ({ ip: e.data.ip, previousIp: e.data.previousIp }));

    const viaBody = await newPat('validated-by-body');
    const forged = await api(stack).post('/api/v1/auth/validate', { token: viaBody.token, clientIp: '203.0.113.9' });
    expectRefused('clientIp in the body', forged, ['clientIp']);
    expect((await api(stack).post('/api/v1/auth/validate', { token: viaBody.token })).status).toBe(200);
    await within(3000, async () => (await addressesOf(viaBody)).length >= 1);
    // The test's own socket address, and no record of the one the body claimed.
    expect(await addressesOf(viaBody)).toEqual([{ ip: '127.0.0.1', previousIp: null }]);

    const viaBearer = await newPat('validated-by-bearer');
    expect((await api(stack, viaBearer.token).get('/api/v1/auth/validate')).status).toBe(200);
    await within(3000, async () => (await addressesOf(viaBearer)).length >= 1);
    expect(await addressesOf(viaBearer)).toEqual([{ ip: '127.0.0.1', previousIp: null }]);
  });

  it('client_credentials tokens are audited (row and auth.v1.events.audit event), burst or not', async () => {
    const created = await admin.post('/api/v1/clients', { clientId: 'announced', roles: ['service'] });
    const nc = await stack.nats();
    const seen: Array<{ type: string; data: { tid?: string; grant?: string } }> = [];
    const sub = nc.subscribe(`${stack.prefix}${EVENTS.AUDIT}`, {
      callback: (_e, m) => {
        seen.push(m.json());
      },
    });
    await nc.flush();
    const basic = `Basic ${Buffer.from(`announced:${created.body.client_secret}`).toString('base64')}`;
    const replies = await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${stack.url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }).then((r) => r.json() as Promise<{ access_token: string }>),
      ),
    );
    const tids = replies.map((r) => JSON.parse(Buffer.from(r.access_token.split('.')[1], 'base64url').toString()).jti);
    await within(2000, async () =>
      tids.every((tid) => seen.some((e) => e.type === 'token.issued' && e.data.tid === tid)),
    );
    sub.unsubscribe();
    expect(seen.find((e) => e.data.tid === tids[0])?.data.grant).toBe('client_credentials');
    const rows = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE type = 'token.issued' AND actor = 'announced' AND data->>'tid' = ANY($1::text[])`,
      [tids],
    );
    expect(Number(rows[0].n)).toBe(12);
  });

  it('the scheduled cleanup purges expired records, one replica at a time under an advisory lock', async () => {
    await seedClient(stack, 'ephemeral', ['service']);
    const lock = new Client({ connectionString: stack.db.url });
    await lock.connect();
    try {
      // While someone else holds the lock no replica purges anything.
      await lock.query('SELECT pg_advisory_lock($1)', [CLEANUP_LOCK_ID]);
      for (let i = 0; i < 3; i++) await admin.post('/api/v1/tokens', { client_id: 'ephemeral', token_life: 1 });
      const live = await admin.post('/api/v1/tokens', { client_id: 'ephemeral', token_life: 3600 });
      // Expired long enough to go at the next purge (past twice CLOCK_SKEW), had anyone purged.
      await stack.query(
        `UPDATE access_tokens SET expires_at = now() - interval '1 minute' WHERE cid = 'ephemeral' AND tid <> $1`,
        [live.body.tid],
      );
      await new Promise((r) => setTimeout(r, 2500));
      const held = await stack.query(`SELECT tid FROM access_tokens WHERE cid = 'ephemeral' AND expires_at < now()`);
      expect(held.length).toBe(3);
      await lock.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK_ID]);
      await within(
        4000,
        async () =>
          (await stack.query(`SELECT tid FROM access_tokens WHERE cid = 'ephemeral' AND expires_at < now()`)).length ===
          0,
      );
      expect((await stack.query(`SELECT tid FROM access_tokens WHERE tid = $1`, [live.body.tid])).length).toBe(1);
    } finally {
      await lock.end();
    }
  });

  it('keeps the record of a token that validation may still accept (CLOCK_SKEW past its exp, on a clock CLOCK_SKEW behind), then purges it', async () => {
    const minted = await admin.post('/api/v1/tokens', { token_life: 1 });
    expect(minted.status).toBe(201);
    const edge = api(stack, minted.body.access_token as string);
    const exp = jwtClaims(minted.body.access_token as string).exp;
    await within(3000, async () => (await stack.query(`SELECT 1 WHERE now() > to_timestamp($1)`, [exp])).length === 1);
    // A record long expired: once it is gone, a cleanup has run since the token's exp.
    await stack.query(
      `INSERT INTO access_tokens (tid, sub, cid, rcid, typ, roles, tenants, created_at, expires_at)
       VALUES (gen_random_uuid(), 'nobody', 'nobody', 'nobody', 'client', '{}', '{}', now() - interval '2 hours', now() - interval '1 hour')`,
    );
    await within(
      3000,
      async () => (await stack.query(`SELECT 1 FROM access_tokens WHERE sub = 'nobody'`)).length === 0,
    );
    expect(Date.now() / 1000).toBeLessThan(exp + 3);
    // Was: the record purged at exp, so the write was refused as by a revoked token (401) and the token unknown (404).
    const written = await edge.post('/api/v1/tokens', { token_life: 60 });
    expect({ status: written.status, message: written.body.message }).toEqual({ status: 201, message: undefined });
    expect((await edge.get(`/api/v1/tokens/${minted.body.tid}`)).status).toBe(200);

    // Past exp + CLOCK_SKEW the token is refused as expired; its record goes once no replica whose
    // clock runs up to CLOCK_SKEW behind could accept it either (exp + 2 × CLOCK_SKEW).
    await within(
      (exp + 6) * 1000 + 3000 - Date.now(),
      async () => (await stack.query(`SELECT 1 FROM access_tokens WHERE tid = $1`, [minted.body.tid])).length === 0,
    );
    expect((await edge.get('/api/v1/auth/validate')).status).toBe(401);
  });
});
