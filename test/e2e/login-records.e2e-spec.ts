import { seedUser } from '../support/fixtures';
import { Stack } from '../support/stack';

/**
 * A successful password login stores its access token, its refresh token, the cleared
 * failed-login counter and its audit row in one statement: all of them or none.
 */
describe('what a password login writes', () => {
  const stack = new Stack();
  const post = (path: string, body: unknown) =>
    fetch(`${stack.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('records the access token, a working refresh token, the cleared counter and the audit row', async () => {
    const u = await seedUser(stack, 'lena', 'lena-password-1234', ['user'], ['acme']);
    await stack.query(`UPDATE users SET failed_logins = 2 WHERE id = $1`, [u.id]);
    const res = await post('/auth/login', { username: 'lena', password: 'lena-password-1234' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; tid: string };

    const [token] = await stack.query<{
      sub: string;
      typ: string;
      roles: string[];
      tenants: string[];
      family_id: string;
    }>(`SELECT sub, typ, roles, tenants, family_id FROM access_tokens WHERE tid = $1`, [body.tid]);
    expect(token).toMatchObject({ sub: u.id, typ: 'user', roles: ['user'], tenants: ['acme'] });
    const refresh = await stack.query<{ family_id: string; user_id: string; revoked: boolean; used_at: Date | null }>(
      `SELECT family_id, user_id, revoked, used_at FROM refresh_tokens WHERE user_id = $1`,
      [u.id],
    );
    expect(refresh).toEqual([{ family_id: token.family_id, user_id: u.id, revoked: false, used_at: null }]);
    const [user] = await stack.query<{ failed_logins: number }>(`SELECT failed_logins FROM users WHERE id = $1`, [
      u.id,
    ]);
    expect(user.failed_logins).toBe(0);
    const audit = await stack.query<{ actor: string; data: { tid: string } }>(
      `SELECT actor, data FROM audit_events WHERE type = 'login.succeeded' AND subject = $1`,
      [u.id],
    );
    expect(audit).toEqual([{ actor: u.id, data: expect.objectContaining({ tid: body.tid }) }]);

    // The stored hash is the refresh token's: it rotates once.
    const rotated = await post('/auth/refresh', { refresh_token: body.refresh_token });
    expect(rotated.status).toBe(200);
  });

  it('writes nothing when one of the rows cannot be stored, and answers an error', async () => {
    const u = await seedUser(stack, 'milo', 'milo-password-1234');
    await stack.query(`UPDATE users SET failed_logins = 2 WHERE id = $1`, [u.id]);
    // The audit row is the last part of the statement: refusing it must undo the tokens too.
    await stack.query(`
      CREATE FUNCTION refuse_milo() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'login.succeeded' AND NEW.subject = '${u.id}' THEN RAISE EXCEPTION 'refused by test'; END IF;
        RETURN NEW;
      END $$`);
    await stack.query(
      `CREATE TRIGGER refuse_milo BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_milo()`,
    );
    try {
      const res = await post('/auth/login', { username: 'milo', password: 'milo-password-1234' });
      expect(res.status).toBeGreaterThanOrEqual(500);
      const body = (await res.json()) as { statusCode: number; error: { errorKey: string } };
      expect(body.statusCode).toBe(res.status);
      expect(body.error.errorKey).toEqual(expect.any(String));

      expect(await stack.query(`SELECT tid FROM access_tokens WHERE sub = $1`, [u.id])).toEqual([]);
      expect(await stack.query(`SELECT id FROM refresh_tokens WHERE user_id = $1`, [u.id])).toEqual([]);
      const [user] = await stack.query<{ failed_logins: number }>(`SELECT failed_logins FROM users WHERE id = $1`, [
        u.id,
      ]);
      expect(user.failed_logins).toBe(2);
    } finally {
      await stack.query(`DROP TRIGGER refuse_milo ON audit_events`);
      await stack.query(`DROP FUNCTION refuse_milo()`);
    }
    // And with the obstacle gone the same login goes through.
    expect((await post('/auth/login', { username: 'milo', password: 'milo-password-1234' })).status).toBe(200);
  });

  it('keeps working when a migration adds columns while the replica runs (its statements are prepared)', async () => {
    await seedUser(stack, 'nora', 'nora-password-1234');
    const login = () => post('/auth/login', { username: 'nora', password: 'nora-password-1234' });
    expect((await login()).status).toBe(200); // the statements are prepared on this connection now
    await stack.query(`ALTER TABLE users ADD COLUMN later_feature int`);
    await stack.query(`ALTER TABLE access_tokens ADD COLUMN later_feature int`);
    try {
      for (let i = 0; i < 3; i++) expect((await login()).status).toBe(200);
    } finally {
      await stack.query(`ALTER TABLE users DROP COLUMN later_feature`);
      await stack.query(`ALTER TABLE access_tokens DROP COLUMN later_feature`);
    }
  });
});
