import { SUBJECTS } from '@portcullis/contracts';
import { api, expectRefused, seedClient, seedUser } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

describe('token registry (issue #3, 2 replicas)', () => {
  const stack = new Stack({ replicas: 2, env: { EXTENDED_TOKEN_MAX_TTL: '7200', TOKEN_MAX_TTL: '3600' } });
  let admin: ReturnType<typeof api>;
  let adminToken: string;
  const natsValid = async (token: string) =>
    (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid;
  const restValid = async (token: string) =>
    (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } })).status ===
    200;
  const deadEverywhere = (token: string) =>
    within(1000, async () => {
      const answers = await Promise.all([
        ...Array.from({ length: 8 }, () => natsValid(token)),
        restValid(token),
        restValid(token),
      ]);
      return answers.every((v) => v === false);
    });

  beforeAll(async () => {
    await stack.start();
    await seedClient(stack, 'billing', ['service', 'reader']);
    await seedClient(stack, 'shipping', ['service'], { maxTokenLifetime: 600 });
    await seedClient(stack, 'frozen', ['service'], { enabled: false });
    adminToken = (await login(stack)).access_token;
    admin = api(stack, adminToken);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('mints tokens for clients and filters listings by roles, exclude_expired and client_ids', async () => {
    const a = await admin.post('/api/v1/tokens', { client_id: 'billing', roles: ['service', 'reader'] });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({
      cid: 'billing',
      rcid: 'portcullis',
      r: ['service', 'reader'],
      typ: 'client',
      revoked: false,
      token_type: 'Bearer',
    });
    expect(a.body.tid).toEqual(expect.any(String));
    const b = await admin.post('/api/v1/tokens', { client_id: 'billing', roles: ['service'] });
    const c = await admin.post('/api/v1/tokens', { client_id: 'shipping' });
    const short = await admin.post('/api/v1/tokens', { client_id: 'shipping', token_life: 1 });
    expect(short.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));

    const tids = (r: { body: { items: Array<{ tid: string }> } }) => r.body.items.map((i) => i.tid).sort();
    expect(tids(await admin.get('/api/v1/tokens/all?client_ids=billing'))).toEqual([a.body.tid, b.body.tid].sort());
    expect(tids(await admin.get('/api/v1/tokens/all?client_ids=billing&roles=reader'))).toEqual([a.body.tid]);
    expect(tids(await admin.get('/api/v1/tokens/all?roles=service,reader'))).toEqual([a.body.tid]);
    expect(tids(await admin.get('/api/v1/tokens/all?client_ids=shipping'))).toEqual(
      [c.body.tid, short.body.tid].sort(),
    );
    expect(tids(await admin.get('/api/v1/tokens/all?client_ids=shipping&exclude_expired=true'))).toEqual([c.body.tid]);
    expect(tids(await admin.get('/api/v1/tokens/all?client_ids=billing,shipping&exclude_expired=true'))).toEqual(
      [a.body.tid, b.body.tid, c.body.tid].sort(),
    );
    const item = (await admin.get('/api/v1/tokens/all?client_ids=billing&roles=reader')).body.items[0];
    expect(Object.keys(item).sort()).toEqual(['cid', 'cts', 'ets', 'r', 'rcid', 'revoked', 'sub', 'tid', 'typ']);
    expect(JSON.stringify(item)).not.toContain(a.body.access_token);
  });

  it('refuses wider roles, over-long lifetimes and disabled or unknown clients', async () => {
    expect((await admin.post('/api/v1/tokens', { client_id: 'shipping', roles: ['admin'] })).status).toBe(403);
    // An admin's own token may be narrowed to any role: admin is everything.
    const narrowed = await admin.post('/api/v1/tokens', { roles: ['user'] });
    expect(narrowed.status).toBe(201);
    expect(narrowed.body.r).toEqual(['user']);
    const tooLong = await admin.post('/api/v1/tokens', { client_id: 'shipping', token_life: 601 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toContain('600');
    const overGlobal = await admin.post('/api/v1/tokens', { token_life: 3601 });
    expect(overGlobal.status).toBe(400);
    expect(overGlobal.body.error.data.fields[0].field).toBe('token_life');
    expect((await admin.post('/api/v1/tokens', { client_id: 'frozen' })).status).toBe(403);
    expect((await admin.post('/api/v1/tokens', { client_id: 'nope' })).status).toBe(404);
  });

  it("keeps other principals' tokens invisible to a non-admin (404), and refuses minting for others (403)", async () => {
    const user = await seedUser(stack, 'alice', 'alice-password-1');
    const alice = api(stack, (await user.login()).access_token);
    const adminOwn = await admin.post('/api/v1/tokens', {});
    expect((await alice.get(`/api/v1/tokens/${adminOwn.body.tid}`)).status).toBe(404);
    expect((await alice.del(`/api/v1/tokens/${adminOwn.body.tid}`)).status).toBe(404);
    expect((await alice.get('/api/v1/tokens/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await alice.post('/api/v1/tokens', { client_id: 'billing' })).status).toBe(403);
    expect((await alice.post('/api/v1/tokens', { roles: ['admin'] })).status).toBe(403);
    expect((await alice.get('/api/v1/tokens/all')).status).toBe(403);
    expect((await alice.del('/api/v1/tokens/all')).status).toBe(403);
    expect((await alice.post('/api/v1/tokens/cleanup')).status).toBe(403);
    expect(await natsValid(adminOwn.body.access_token)).toBe(true);

    const mine = await alice.post('/api/v1/tokens', { token_life: 120 });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ typ: 'user', sub: user.id, r: ['user'], expires_in: 120 });
    const listed = await alice.get('/api/v1/tokens');
    expect(listed.body.items.every((t: { sub: string }) => t.sub === user.id)).toBe(true);
    expect(listed.body.items.map((t: { tid: string }) => t.tid)).toContain(mine.body.tid);
    expect((await alice.get(`/api/v1/tokens/${mine.body.tid}`)).body.tid).toBe(mine.body.tid);
    expect((await alice.get('/api/v1/tokens/not-a-uuid')).status).toBe(400);
  });

  it('revocation by id, own and admin-wide reaches every replica within 1 s and is idempotent', async () => {
    const t = await admin.post('/api/v1/tokens', { client_id: 'billing' });
    expect(await natsValid(t.body.access_token)).toBe(true);
    expect((await admin.del(`/api/v1/tokens/${t.body.tid}`)).status).toBe(204);
    await deadEverywhere(t.body.access_token);
    expect((await admin.del(`/api/v1/tokens/${t.body.tid}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/tokens/${t.body.tid}`)).body.revoked).toBe(true);

    const bob = await seedUser(stack, 'bob', 'bob-password-12');
    const s1 = await bob.login();
    const s2 = await bob.login();
    const own = await api(stack, s1.access_token).del('/api/v1/tokens');
    expect(own.status).toBe(200);
    expect(own.body.count).toBeGreaterThanOrEqual(2);
    await deadEverywhere(s2.access_token);
    expect(
      (
        await fetch(`${stack.url}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: s2.refresh_token }),
        })
      ).status,
    ).toBe(401);

    // With the listing's filters, only what they select goes; a filter nobody knows is refused.
    const shipped = await admin.post('/api/v1/tokens', { client_id: 'shipping' });
    const billed = await admin.post('/api/v1/tokens', { client_id: 'billing' });
    expect((await admin.del('/api/v1/tokens/all?bogus=1')).status).toBe(400);
    expect((await admin.del('/api/v1/tokens?roles=user')).status).toBe(400);
    expect(await natsValid(shipped.body.access_token)).toBe(true);
    const onlyShipping = await admin.del('/api/v1/tokens/all?client_ids=shipping');
    expect(onlyShipping.status).toBe(200);
    expect(onlyShipping.body.count).toBeGreaterThanOrEqual(1);
    await deadEverywhere(shipped.body.access_token);
    expect(await natsValid(billed.body.access_token)).toBe(true);
    expect(await natsValid(adminToken)).toBe(true);
    // A filter that selects a login session takes its refresh family too; the caller's stays.
    const dana = await (await seedUser(stack, 'dana', 'dana-password-1234')).login();
    expect((await admin.del('/api/v1/tokens/all?roles=user')).body.count).toBeGreaterThanOrEqual(1);
    await deadEverywhere(dana.access_token);
    const refreshed = await fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: dana.refresh_token }),
    });
    expect(refreshed.status).toBe(401);
    expect(await natsValid(adminToken)).toBe(true);

    const victim = await admin.post('/api/v1/tokens', { client_id: 'shipping' });
    const everything = await admin.del('/api/v1/tokens/all');
    expect(everything.status).toBe(200);
    expect(everything.body.count).toBeGreaterThanOrEqual(1);
    await deadEverywhere(victim.body.access_token);
    expect(await natsValid(adminToken)).toBe(true);
    expect((await admin.del('/api/v1/tokens/all')).body.count).toBe(0);
  });

  it('cleanup deletes only records expired past twice CLOCK_SKEW (2 × 30 s) and returns the count', async () => {
    const mint = async () => (await admin.post('/api/v1/tokens', { client_id: 'billing', token_life: 60 })).body.tid;
    const live = await mint();
    // Expired, but a replica whose clock runs up to CLOCK_SKEW behind still accepts it for CLOCK_SKEW:
    // its record stays.
    const inSkew = await mint();
    await stack.query(`UPDATE access_tokens SET expires_at = now() - interval '50 seconds' WHERE tid = $1`, [inSkew]);
    const gone = [await mint(), await mint(), await mint()];
    await stack.query(`UPDATE access_tokens SET expires_at = now() - interval '61 seconds' WHERE tid = ANY($1)`, [
      gone,
    ]);
    const [{ expired }] = await stack.query<{ expired: string }>(
      `SELECT count(*) AS expired FROM access_tokens WHERE expires_at < now() - interval '60 seconds' AND NOT revoked`,
    );
    const res = await admin.post('/api/v1/tokens/cleanup');
    expect(res.status).toBe(200);
    expect(res.body.accessTokens).toBe(Number(expired));
    expect(res.body.accessTokens).toBeGreaterThanOrEqual(3);
    const left = async (tids: string[]) =>
      (await stack.query<{ tid: string }>(`SELECT tid FROM access_tokens WHERE tid = ANY($1)`, [tids])).map(
        (r) => r.tid,
      );
    expect(await left([live, inSkew, ...gone])).toEqual(expect.arrayContaining([live, inSkew]));
    expect(await left(gone)).toEqual([]);
    expect((await admin.post('/api/v1/tokens/cleanup')).body.accessTokens).toBe(0);
  });

  it('system and extended tokens', async () => {
    const sys = await admin.post('/api/v1/auth/system-token');
    expect(sys.status).toBe(200);
    expect(sys.body.roles).toEqual(['system']);
    expect(
      (
        await stack.natsRequest<{ claims: { typ: string; roles: string[] } }>(SUBJECTS.TOKEN_VALIDATE, {
          token: sys.body.access_token,
        })
      ).claims,
    ).toMatchObject({ typ: 'system', roles: ['system'] });
    const carol = await seedUser(stack, 'carol', 'carol-password-1');
    expect((await api(stack, (await carol.login()).access_token).post('/api/v1/auth/system-token')).status).toBe(403);

    const ext = await admin.post('/api/v1/auth/extended-token', { clientId: 'billing', expiry: 7200 });
    expect(ext.status).toBe(200);
    expect(ext.body.expires_in).toBe(7200);
    const claims = (
      await stack.natsRequest<{ claims: { typ: string; exp: number; iat: number; sub: string } }>(
        SUBJECTS.TOKEN_VALIDATE,
        { token: ext.body.access_token },
      )
    ).claims;
    expect(claims).toMatchObject({ typ: 'extended', sub: 'billing' });
    expect(claims.exp - claims.iat).toBe(7200);
    // Over EXTENDED_TOKEN_MAX_TTL: capped, and the reply and the token say so.
    const over = await admin.post('/api/v1/auth/extended-token', { clientId: 'billing', expiry: 999999 });
    expect(over.status).toBe(200);
    expect(over.body.expires_in).toBe(7200);
    const capped = (
      await stack.natsRequest<{ claims: { exp: number; iat: number } }>(SUBJECTS.TOKEN_VALIDATE, {
        token: over.body.access_token,
      })
    ).claims;
    expect(capped.exp - capped.iat).toBe(7200);
    expect((await admin.post('/api/v1/auth/extended-token', { clientId: 'billing', expiry: 0 })).status).toBe(400);
    // The moment itself (an ISO-8601 date-time) is an expiry too; a past one or a word is not.
    const extend = (expiry: unknown) => admin.post('/api/v1/auth/extended-token', { clientId: 'billing', expiry });
    const at = await extend(new Date(Date.now() + 3600_000).toISOString());
    expect({ status: at.status, near: Math.abs(at.body.expires_in - 3600) <= 2 }).toEqual({ status: 200, near: true });
    for (const bad of [new Date(Date.now() - 60_000).toISOString(), 'tomorrow', '3600'])
      expectRefused(String(bad), await extend(bad), ['expiry']);
    expect((await admin.post('/api/v1/auth/extended-token', { clientId: 'nope', expiry: 60 })).status).toBe(404);
    expect((await admin.post('/api/v1/auth/extended-token', { clientId: 'frozen', expiry: 60 })).status).toBe(403);
  });

  it("a user's session for a client keeps to the client's lifetime cap, and ends with the client", async () => {
    await seedUser(stack, 'shopper', 'shopper-password-1');
    const signIn = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'shopper', password: 'shopper-password-1', clientId: 'shipping' }),
    });
    const session = (await signIn.json()) as { expires_in: number; refresh_token: string };
    expect(session.expires_in).toBe(600);
    const refresh = (refresh_token: string) =>
      fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token }),
      });
    const renewed = await refresh(session.refresh_token);
    expect(renewed.status).toBe(200);
    const next = (await renewed.json()) as { expires_in: number; refresh_token: string };
    expect(next.expires_in).toBe(600);
    expect((await admin.post('/api/v1/clients/shipping/disable')).status).toBeLessThan(300);
    expect((await refresh(next.refresh_token)).status).toBe(401);
    expect((await admin.post('/api/v1/clients/shipping/enable')).status).toBeLessThan(300);
  });

  it('pages through 250 tokens with no duplicates or gaps', async () => {
    await seedClient(stack, 'pager', ['service']);
    const created = new Set<string>();
    for (let i = 0; i < 250; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () => admin.post('/api/v1/tokens', { client_id: 'pager' })),
      );
      for (const r of batch) created.add(r.body.tid);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await admin.get(`/api/v1/tokens/all?client_ids=pager&limit=60${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { tid: string }) => i.tid));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(created);
    expect((await admin.get('/api/v1/tokens/all?cursor=garbage')).status).toBe(400);
  });
});
