import { Client } from 'pg';
import { credentialHelpers } from '../support/credentials';
import { api, readJson, SessionReply } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * A revocation that runs while a refresh of the same session, or a login with the password being
 * changed, is committing must still end that session. The refresh or login is held before its
 * commit (its audit row waits on a table lock), the revocation is started then, and the lock
 * released.
 */
describe('a revocation racing a refresh or a login of the same user', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;
  const { createUser } = credentialHelpers(stack, () => admin);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  const refresh = (refresh_token: string) =>
    fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token }),
    });

  /** Runs `revoke` while a refresh of `refreshToken` has claimed it but not yet committed. */
  async function race(refreshToken: string, revoke: () => Promise<{ status: number }>) {
    const pg = new Client({ connectionString: stack.db.url });
    await pg.connect();
    try {
      await pg.query('BEGIN');
      await pg.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
      const refreshing = refresh(refreshToken);
      await stack.lockWaiters(1);
      const revoking = revoke();
      await stack.lockWaiters(2);
      await pg.query('COMMIT');
      const [refreshed, revoked] = await Promise.all([refreshing, revoking]);
      expect(refreshed.status).toBe(200);
      expect(revoked.status).toBeLessThan(300);
      return readJson<SessionReply>(refreshed);
    } finally {
      await pg.end();
    }
  }

  it('a password change ends the other session even while it is being refreshed', async () => {
    const u = await createUser('racer');
    const mine = await login(stack, u.username, u.password);
    const other = await login(stack, u.username, u.password);
    const rotated = await race(other.refresh_token, () =>
      api(stack, mine.access_token).put('/api/v1/users/me/password', {
        currentPassword: u.password,
        newPassword: 'racer-new-Passw0rd-1',
      }),
    );
    // Before: 200 — the refresh token handed out during the change outlived it, and with it the
    // session the change was meant to end.
    const after = await refresh(rotated.refresh_token);
    expect(after.status).toBe(400);
    expect((await readJson<{ error: string }>(after)).error).toBe('invalid_grant');
    expect((await api(stack, rotated.access_token).get('/api/v1/auth/me')).status).toBe(401);
  });

  it('logout ends the session even while it is being refreshed', async () => {
    const s = await login(stack);
    const rotated = await race(s.refresh_token, () => api(stack, s.access_token).post('/api/v1/auth/logout'));
    const after = await refresh(rotated.refresh_token);
    expect(after.status).toBe(400);
    expect((await api(stack, rotated.access_token).get('/api/v1/auth/me')).status).toBe(401);
  });

  it('a login with the old password that commits after a password change gets no session', async () => {
    const u = await createUser('late-login');
    const mine = await login(stack, u.username, u.password);
    const pg = new Client({ connectionString: stack.db.url });
    await pg.connect();
    try {
      // The login's record (one statement with its audit row) waits on the lock after the password
      // was checked; the change then runs its revocations and waits on the lock too.
      await pg.query('BEGIN');
      await pg.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
      const loggingIn = fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: u.username, password: u.password }),
      });
      await stack.lockWaiters(1);
      const changing = api(stack, mine.access_token).put('/api/v1/users/me/password', {
        currentPassword: u.password,
        newPassword: 'late-login-new-Passw0rd-1',
      });
      await stack.lockWaiters(2);
      await pg.query('COMMIT');
      const [loggedIn, changed] = await Promise.all([loggingIn, changing]);
      expect(changed.status).toBeLessThan(300);
      // Before: 200, and a session opened with the old password outlived the change.
      if (loggedIn.status === 200) {
        const s = await readJson<SessionReply>(loggedIn);
        expect((await api(stack, s.access_token).get('/api/v1/auth/me')).status).toBe(401);
        expect((await refresh(s.refresh_token)).status).toBe(400);
      } else {
        expect(loggedIn.status).toBe(400);
        expect((await readJson<{ error: string }>(loggedIn)).error).toBe('invalid_grant');
      }
    } finally {
      await pg.end();
    }
  });
});
