import { clientHelpers } from '../support/clients';
import { credentialHelpers } from '../support/credentials';
import { api, inDays, jwtClaims, OAuthTokenReply, readJson } from '../support/fixtures';
import { overlapAtRowLock } from '../support/row-locks';
import { login, Stack } from '../support/stack';

/**
 * The window revoked-caller makes last, as it happens (2 replicas): a user's session ended by DELETE
 * /users/{id}/credentials while the same session asks for a PAT and a token. Whichever way each
 * round goes, nothing the session asked for may outlive the removal: asked for once the removal
 * is under way, it is refused; asked for first, the removal waits for it and ends it too.
 */
describe('a revoked session racing its revocation (2 replicas)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { createUser } = credentialHelpers(stack, () => admin);
  const { createClient, cc } = clientHelpers(stack, () => admin);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  const livePats = async (userId: string) =>
    (await stack.query(`SELECT name FROM personal_access_tokens WHERE user_id = $1 AND deleted_at IS NULL`, [userId]))
      .length;

  /**
   * Rounds of `end` (ending the session of a fresh user) at the same moment as that session asks
   * for a PAT and a token: what it got and is still live afterwards.
   */
  const outliving = async (
    what: string,
    end: (u: { id: string }, session: ReturnType<typeof api>) => Promise<{ status: number }>,
  ) => {
    const outlived: string[] = [];
    for (let round = 0; round < 20; round++) {
      const u = await createUser(`${what}-${round}`);
      const own = api(stack, (await login(stack, u.username, u.password)).access_token);
      const [ended, pat, minted] = await Promise.all([
        end(u, own),
        own.post('/api/v1/users/me/tokens', { name: 'racing', expiresAt: inDays(3) }),
        own.post('/api/v1/tokens', {}),
      ]);
      expect(ended.status).toBeLessThan(300);
      expect([201, 401]).toContain(pat.status);
      expect([201, 401]).toContain(minted.status);
      if ((await livePats(u.id)) > 0) outlived.push(`PAT in round ${round}`);
      if (minted.status === 201) {
        const [row] = await stack.query<{ revoked: boolean }>(`SELECT revoked FROM access_tokens WHERE tid = $1`, [
          minted.body.tid,
        ]);
        if (!row.revoked) outlived.push(`token in round ${round}`);
      }
    }
    return outlived;
  };

  it('DELETE /users/{id}/credentials: no PAT or token asked for at the same moment outlives it', async () => {
    expect(await outliving('removed', (u) => admin.del(`/api/v1/users/${u.id}/credentials`))).toEqual([]);
  });

  it('POST /users/{id}/revoke: no token asked for at the same moment outlives it', async () => {
    // PATs stay (the route ends OAuth sessions only): only tokens count.
    const left = await outliving('revoked', (u) => admin.post(`/api/v1/users/${u.id}/revoke`));
    expect(left.filter((l) => l.startsWith('token'))).toEqual([]);
  });

  it("DELETE /tokens (the session's own): no token asked for at the same moment outlives it", async () => {
    const left = await outliving('own', (_u, own) => own.del('/api/v1/tokens'));
    expect(left.filter((l) => l.startsWith('token'))).toEqual([]);
  });

  it('logout: no token the session asked for at the same moment outlives it', async () => {
    const left = await outliving('logout', (_u, own) => own.post('/api/v1/auth/logout'));
    expect(left.filter((l) => l.startsWith('token'))).toEqual([]);
  });

  it('two administrators revoking each other at once: each answers, none is a 500 (deadlock)', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 15; round++) {
      // DELETE /tokens/all of the round before revoked the suite's own administrator too.
      admin = api(stack, (await login(stack)).access_token);
      const a = await createUser(`admin-a-${round}`, ['admin']);
      const b = await createUser(`admin-b-${round}`, ['admin']);
      const asA = api(stack, (await login(stack, a.username, a.password)).access_token);
      const asB = api(stack, (await login(stack, b.username, b.password)).access_token);
      const answers = await Promise.all([
        asA.post(`/api/v1/users/${b.id}/revoke`),
        asB.post(`/api/v1/users/${a.id}/revoke`),
        asA.del('/api/v1/tokens/all'),
        asB.del('/api/v1/tokens/all'),
      ]);
      statuses.push(...answers.map((r) => r.status));
    }
    // The first to go revokes the other's session: its other requests are refused (401).
    expect(statuses.filter((s) => s !== 200 && s !== 401)).toEqual([]);
  });

  const tidOf = (token: string) => jwtClaims(token).jti;
  const revoked = async (tids: string[]) =>
    (
      await stack.query<{ revoked: boolean }>(`SELECT revoked FROM access_tokens WHERE tid = ANY($1::uuid[])`, [tids])
    ).map((r) => r.revoked);
  const ccToken = async (id: string, secret: string) =>
    String((await readJson<OAuthTokenReply>(await cc(id, secret))).access_token);

  /**
   * The other side of DELETE /tokens/all: tokens it sweeps ([swept, held], minted in this order), the
   * request, and its caller's token, minted last. DELETE /tokens/all, held at `held`, has marked
   * `swept` and then the request's sweep waits for `swept` while holding its own caller's token,
   * which DELETE /tokens/all comes to next: the two orders that deadlocked.
   */
  let rivals = 0;
  it.each([
    [
      'a client disable',
      async () => {
        const c = await createClient(`swept-disable-${++rivals}`);
        const tokens = [await ccToken(c.clientId, c.client_secret), await ccToken(c.clientId, c.client_secret)];
        const b = await createUser(`disabler-${rivals}`, ['admin']);
        const asB = api(stack, (await login(stack, b.username, b.password)).access_token);
        return { tokens, request: () => asB.post(`/api/v1/clients/${c.clientId}/disable`) };
      },
    ],
    [
      'a role change with revoke_tokens',
      async () => {
        const c = await createClient(`swept-roles-${++rivals}`, ['service', 'reader']);
        const tokens = [await ccToken(c.clientId, c.client_secret), await ccToken(c.clientId, c.client_secret)];
        const b = await createUser(`role-changer-${rivals}`, ['admin']);
        const asB = api(stack, (await login(stack, b.username, b.password)).access_token);
        return { tokens, request: () => asB.del(`/api/v1/clients/${c.clientId}/roles/reader?revoke_tokens=true`) };
      },
    ],
    [
      "a user's password change",
      async () => {
        const b = await createUser(`changer-${++rivals}`);
        const session = async () => (await login(stack, b.username, b.password)).access_token;
        const tokens = [await session(), await session()];
        const asB = api(stack, await session());
        const newPassword = 'Quiet-Harbour-Lantern-42';
        return {
          tokens,
          request: () => asB.put('/api/v1/users/me/password', { currentPassword: b.password, newPassword }),
        };
      },
    ],
  ])('DELETE /tokens/all at the same moment as %s: neither is a 500 (deadlock)', async (_label, setUp) => {
    // DELETE /tokens/all of the case before revoked the suite's own administrator too.
    admin = api(stack, (await login(stack)).access_token);
    const { tokens, request } = await setUp();
    const all = admin;
    const { first, second } = await overlapAtRowLock(
      stack,
      'SELECT 1 FROM access_tokens WHERE tid = $1 FOR UPDATE',
      [tidOf(tokens[1])],
      () => all.del('/api/v1/tokens/all'),
      request,
    );
    expect(first.status).toBe(200);
    // Answered before the sweep (200; 204 for the password change), or refused after it: DELETE
    // /tokens/all revoked its caller's token.
    expect([200, 204, 401]).toContain(second.status);
    expect(await revoked(tokens.map(tidOf))).toEqual([true, true]);
  });

  it('DELETE /tokens/all at the same moment as a client_credentials grant: the sweep never answers before a token it leaves valid', async () => {
    admin = api(stack, (await login(stack)).access_token);
    const c = await createClient('minted-meanwhile');
    const held = await ccToken(c.clientId, c.client_secret);
    const all = admin;
    const { first, second, secondAnsweredWhileHeld } = await overlapAtRowLock(
      stack,
      'SELECT 1 FROM access_tokens WHERE tid = $1 FOR UPDATE',
      [tidOf(held)],
      () => all.del('/api/v1/tokens/all'),
      () => ccToken(c.clientId, c.client_secret),
    );
    expect(first.status).toBe(200);
    // Minted while DELETE /tokens/all was under way (held here, it could not have answered), it is one of
    // "all"; a grant that waits for the sweep is minted after it and stays.
    expect(await revoked([tidOf(second)])).toEqual([secondAnsweredWhileHeld]);
  });

  it("DELETE /tokens/all held in its sweep of refresh families while a password change ends the user's other sessions: neither is a 500 or 503 (deadlock)", async () => {
    admin = api(stack, (await login(stack)).access_token);
    const b = await createUser(`family-changer-${++rivals}`);
    const other = await login(stack, b.username, b.password);
    const asB = api(stack, (await login(stack, b.username, b.password)).access_token);
    // A later session's refresh token, held here: DELETE /tokens/all has marked b's families when it
    // waits for it, and the password change, holding its caller's token, then waits for those.
    const held = await login(stack);
    const all = api(stack, (await login(stack)).access_token);
    const { first, second } = await overlapAtRowLock(
      stack,
      'SELECT 1 FROM refresh_tokens WHERE family_id = (SELECT family_id FROM access_tokens WHERE tid = $1) FOR UPDATE',
      [held.tid],
      () => all.del('/api/v1/tokens/all'),
      () =>
        asB.put('/api/v1/users/me/password', { currentPassword: b.password, newPassword: 'Quiet-Harbour-Lantern-42' }),
    );
    expect(first.status).toBe(200);
    // PostgreSQL ends one of the two and it runs again: the change went first (204), or after the
    // sweep, which revoked its caller's token (401).
    expect([204, 401]).toContain(second.status);
    expect(await revoked([other.tid])).toEqual([true]);
  });
});
