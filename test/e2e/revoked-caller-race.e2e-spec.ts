import { credentialHelpers } from '../support/credentials';
import { api, inDays } from '../support/fixtures';
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
});
