import { login, Stack } from '../support/stack';

interface RefreshRow {
  created_at: Date;
  expires_at: Date;
  session_expires_at: Date | null;
}

/**
 * REFRESH_TOKEN_TTL is renewed by every refresh; SESSION_MAX_TTL bounds the session however often it
 * is refreshed (Keycloak's SSO Session Max), so a refresh token kept rotating (a busy client, or a
 * thief racing nobody) does not live for ever.
 */
describe('SESSION_MAX_TTL: a session ends at its absolute maximum, refreshes or not', () => {
  const stack = new Stack({ env: { REFRESH_TOKEN_TTL: '3600', SESSION_MAX_TTL: '120' } });

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  const rowsOf = (userId: string) =>
    stack.query<RefreshRow>(
      `SELECT created_at, expires_at, session_expires_at FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
  const refresh = (refresh_token: string) =>
    fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token }),
    });

  it('login sets the end; each refresh carries it on and never reaches past it', async () => {
    const session = await login(stack);
    const [first] = (await rowsOf(session.userId)).slice(-1);
    const sessionEnd = first.session_expires_at!.getTime();
    // The end is SESSION_MAX_TTL after the login, and the refresh token expires there, not an hour on.
    expect(sessionEnd - first.created_at.getTime()).toBeGreaterThanOrEqual(119_000);
    expect(sessionEnd - first.created_at.getTime()).toBeLessThanOrEqual(121_000);
    expect(first.expires_at.getTime()).toBe(sessionEnd);

    let token = session.refresh_token;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(token);
      expect(res.status).toBe(200);
      token = ((await res.json()) as { refresh_token: string }).refresh_token;
    }
    const rows = (await rowsOf(session.userId)).slice(-4);
    for (const row of rows) {
      expect(row.session_expires_at!.getTime()).toBe(sessionEnd);
      expect(row.expires_at.getTime()).toBe(sessionEnd);
    }
  });

  it('a new login starts a new session with an end of its own', async () => {
    const a = await login(stack);
    await new Promise((r) => setTimeout(r, 1100));
    const b = await login(stack);
    const rows = await rowsOf(b.userId);
    const ends = new Set(rows.slice(-2).map((r) => r.session_expires_at!.getTime()));
    expect(a.userId).toBe(b.userId);
    expect(ends.size).toBe(2);
  });
});

describe('SESSION_MAX_TTL=0: no absolute end, REFRESH_TOKEN_TTL alone', () => {
  const stack = new Stack({ env: { REFRESH_TOKEN_TTL: '3600', SESSION_MAX_TTL: '0' } });

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('the refresh token lives REFRESH_TOKEN_TTL and its session has no end', async () => {
    const session = await login(stack);
    const [row] = await stack.query<RefreshRow>(
      `SELECT created_at, expires_at, session_expires_at FROM refresh_tokens WHERE user_id = $1`,
      [session.userId],
    );
    expect(row.session_expires_at).toBeNull();
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(3600_000);
  });
});
