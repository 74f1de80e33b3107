import { ErrorEnvelope } from '@portcullis/contracts';
import { credentialHelpers } from '../support/credentials';
import { api, clientCredentialsToken, inDays } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * A caller's bearer is judged from memory, which learns of a revocation made on another replica a
 * moment after PostgreSQL does (SPEC §7 allows a second). A write that makes a credential or a token,
 * or changes a user or a client, must not land in that moment: auth-core checks, in the write's own
 * transaction, that the caller's token is still on record and live.
 *
 * The moment is made to last: the caller's token is revoked (its PAT deleted) in PostgreSQL only, as
 * another replica's revocation stands between its commit and its event reaching this replica. Every
 * replica and gateway still accepts the token (the validate below says so); the write must not.
 */
describe('a caller revoked a moment ago', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;
  let adminId: string;
  const { validate, createUser } = credentialHelpers(stack, () => admin);

  /** What the other replica's revocation commits, before its event reaches this one. */
  const revokeInDatabaseOnly = (tid: string) =>
    stack.query(`UPDATE access_tokens SET revoked = true, revoked_at = now() WHERE tid = $1`, [tid]);
  /** Audit rows a principal wrote other than by signing in or using a PAT: every write here records one. */
  const writesBy = async (actor: string) =>
    Number(
      (
        await stack.query<{ n: string }>(
          `SELECT count(*) AS n FROM audit_events WHERE actor = $1 AND type NOT LIKE 'login.%' AND type <> 'pat.used_from_new_ip'`,
          [actor],
        )
      )[0].n,
    );

  /** A fresh admin session, revoked in PostgreSQL only: still valid everywhere in memory. */
  const revokedAdmin = async () => {
    const s = await login(stack);
    await revokeInDatabaseOnly(s.tid);
    expect((await validate(s.access_token)).valid).toBe(true);
    return s.access_token;
  };

  /** What a write answered with a revoked bearer, and how many audit rows it wrote: `401 UNAUTHENTICATED, 0`. */
  const outcome = async (actor: string, call: () => Promise<{ status: number; body: unknown }>) => {
    const before = await writesBy(actor);
    const r = await call();
    const body = r.body as ErrorEnvelope | null;
    return `${r.status} ${body?.error?.errorKey ?? body?.status ?? ''}, ${(await writesBy(actor)) - before}`;
  };
  const REFUSED = '401 UNAUTHENTICATED, 0';

  /** Each write, with a bearer of its own from `bearer()`: all refused, nothing written (one table to read). */
  const expectAllRefused = async (
    actor: string,
    bearer: () => Promise<string>,
    writes: Record<string, (token: string) => Promise<{ status: number; body: unknown }>>,
  ) => {
    const seen: Record<string, string> = {};
    for (const [label, call] of Object.entries(writes)) {
      const token = await bearer();
      seen[label] = await outcome(actor, () => call(token));
    }
    expect(seen).toEqual(Object.fromEntries(Object.keys(writes).map((k) => [k, REFUSED])));
  };

  beforeAll(async () => {
    await stack.start();
    const s = await login(stack);
    adminId = s.userId;
    admin = api(stack, s.access_token);
    expect((await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] })).status).toBe(201);
  }, 90000);
  afterAll(() => stack.stop(), 60000);
  // Each case on a session of its own: one a case failed to refuse may have revoked the last one's.
  beforeEach(async () => {
    admin = api(stack, (await login(stack)).access_token);
  });

  it('every write a session authorises: 401 in the envelope, nothing written', async () => {
    const u = await createUser('target-user', ['user']);
    const writes: Record<string, (token: string) => Promise<{ status: number; body: unknown }>> = {
      'POST /users/me/tokens': (t) =>
        api(stack, t).post('/api/v1/users/me/tokens', { name: 'late', expiresAt: inDays(3) }),
      'POST /users/{id}/tokens': (t) =>
        api(stack, t).post(`/api/v1/users/${u.id}/tokens`, { name: 'late', expiresAt: inDays(3) }),
      'POST /tokens': (t) => api(stack, t).post('/api/v1/tokens', {}),
      'POST /tokens for a client': (t) => api(stack, t).post('/api/v1/tokens', { client_id: 'svc' }),
      'POST /auth/system-token': (t) => api(stack, t).post('/api/v1/auth/system-token', {}),
      'POST /auth/extended-token': (t) =>
        api(stack, t).post('/api/v1/auth/extended-token', { clientId: 'svc', expiry: 3600 }),
      'POST /clients/{id}/api-keys': (t) => api(stack, t).post('/api/v1/clients/svc/api-keys', { name: 'late' }),
      'POST /clients': (t) => api(stack, t).post('/api/v1/clients', { clientId: 'late-client' }),
      'PATCH /clients/{id}': (t) => api(stack, t).patch('/api/v1/clients/svc', { description: 'late' }),
      'PUT /clients/{id}/roles/{role}': (t) => api(stack, t).put('/api/v1/clients/svc/roles/auditor'),
      'POST /clients/{id}/disable': (t) => api(stack, t).post('/api/v1/clients/svc/disable'),
      'DELETE /clients/{id}': (t) => api(stack, t).del('/api/v1/clients/svc'),
      'POST /users': (t) =>
        api(stack, t).post('/api/v1/users', { username: 'late-user', password: 'Late-passw0rd-123' }),
      'PATCH /users/{id}': (t) => api(stack, t).patch(`/api/v1/users/${u.id}`, { roles: ['user', 'auditor'] }),
      'DELETE /users/{id}/credentials': (t) => api(stack, t).del(`/api/v1/users/${u.id}/credentials`),
      'POST /users/{id}/revoke': (t) => api(stack, t).post(`/api/v1/users/${u.id}/revoke`),
      'DELETE /tokens/all': (t) => api(stack, t).del('/api/v1/tokens/all'),
      'DELETE /users/{id}': (t) => api(stack, t).del(`/api/v1/users/${u.id}`),
    };
    await expectAllRefused(adminId, revokedAdmin, writes);
    // Nothing the writes would have made is there, and what they would have changed is as it was.
    expect(await stack.query(`SELECT name FROM personal_access_tokens WHERE name = 'late'`)).toEqual([]);
    expect(await stack.query(`SELECT client_id FROM clients WHERE client_id = 'late-client'`)).toEqual([]);
    expect(await stack.query(`SELECT username FROM users WHERE username = 'late-user'`)).toEqual([]);
    expect(await stack.query(`SELECT roles, description, enabled FROM clients WHERE client_id = 'svc'`)).toEqual([
      { roles: ['service'], description: '', enabled: true },
    ]);
    expect(await stack.query(`SELECT roles, password_hash IS NOT NULL AS pw FROM users WHERE id = $1`, [u.id])).toEqual(
      [{ roles: ['user'], pw: true }],
    );
  });

  it('PUT /users/me/password with a session revoked a moment ago: 401, the password stays', async () => {
    const u = await createUser('changer');
    const hash = async () => (await stack.query(`SELECT password_hash FROM users WHERE id = $1`, [u.id]))[0];
    const before = await hash();
    const revokedSession = async () => {
      const s = await login(stack, u.username, u.password);
      await revokeInDatabaseOnly(s.tid);
      return s.access_token;
    };
    await expectAllRefused(u.id, revokedSession, {
      'PUT /users/me/password': (t) =>
        api(stack, t).put('/api/v1/users/me/password', {
          currentPassword: u.password,
          newPassword: 'A-brand-new-passw0rd',
        }),
    });
    expect(await hash()).toEqual(before);
  });

  it("a client's own token revoked a moment ago: no API key, no secret rotation, no token", async () => {
    const created = await admin.post('/api/v1/clients', { clientId: 'own-svc', roles: ['service', 'system'] });
    expect(created.status).toBe(201);
    const clientToken = async () => {
      const token = await clientCredentialsToken(stack, 'own-svc', created.body.client_secret as string);
      const { claims } = await validate(token);
      await revokeInDatabaseOnly(claims!.jti as string);
      return token;
    };
    const writes: Record<string, (token: string) => Promise<{ status: number; body: unknown }>> = {
      'POST /clients/{own}/api-keys': (t) => api(stack, t).post('/api/v1/clients/own-svc/api-keys', { name: 'late' }),
      'PATCH /clients/me': (t) => api(stack, t).patch('/api/v1/clients/me', { rotateSecret: true }),
      'POST /tokens': (t) => api(stack, t).post('/api/v1/tokens', {}),
      'POST /auth/system-token': (t) => api(stack, t).post('/api/v1/auth/system-token', {}),
    };
    await expectAllRefused('own-svc', clientToken, writes);
    // The secret was not rotated: it still gets a token.
    expect(await clientCredentialsToken(stack, 'own-svc', created.body.client_secret as string)).toEqual(
      expect.any(String),
    );
  });

  it('a PAT deleted a moment ago (cached as live by validation) creates no user and no token', async () => {
    const own = api(stack, (await login(stack)).access_token);
    let made = 0;
    const deletedPat = async () => {
      const pat = await own.post('/api/v1/users/me/tokens', { name: `admin-pat-${made++}`, expiresAt: inDays(3) });
      expect(pat.status).toBe(201);
      const token = pat.body.token as string;
      expect((await validate(token)).valid).toBe(true);
      await stack.query(`UPDATE personal_access_tokens SET deleted_at = now() WHERE id = $1`, [pat.body.id]);
      // Validation holds the PAT for a while (PatResolverService's cache): still accepted.
      expect((await validate(token)).valid).toBe(true);
      return token;
    };
    await expectAllRefused(adminId, deletedPat, {
      'POST /users with the PAT': (t) =>
        api(stack, t).post('/api/v1/users', { username: 'pat-made', password: 'Pat-made-passw0rd' }),
      'POST /tokens with the PAT': (t) => api(stack, t).post('/api/v1/tokens', {}),
    });
    expect(await stack.query(`SELECT 1 FROM users WHERE username = 'pat-made'`)).toEqual([]);
  });

  it('the same writes with a live token still succeed', async () => {
    const s = await login(stack);
    const own = api(stack, s.access_token);
    expect((await own.post('/api/v1/users/me/tokens', { name: 'live', expiresAt: inDays(3) })).status).toBe(201);
    expect((await own.post('/api/v1/tokens', {})).status).toBe(201);
    expect((await own.post('/api/v1/clients', { clientId: 'live-client' })).status).toBe(201);
    expect((await own.patch('/api/v1/clients/live-client', { description: 'live' })).status).toBe(200);
  });
});
