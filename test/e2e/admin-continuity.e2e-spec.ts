import { clientHelpers } from '../support/clients';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Administration cannot lock itself out: the last enabled user holding `admin` who can sign in is
 * neither disabled, deleted, demoted nor stripped of its password, also when two administrators
 * act on each other at once. An admin client does not count (it is the referee here: it acts on
 * the users without being a way back in).
 */
describe('the last administrator stays (admin continuity)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  let referee: ReturnType<typeof api>;
  let bootstrapId: string;
  const { createClient, cc } = clientHelpers(stack, () => admin);

  const ableAdmins = async () =>
    Number(
      (
        await stack.query<{ n: string }>(
          `SELECT count(*) AS n FROM users WHERE enabled AND 'admin' = ANY(roles) AND password_hash IS NOT NULL`,
        )
      )[0].n,
    );

  const expectLastAdminConflict = (r: { status: number; body: { status?: string; message?: string } | null }) => {
    expect({ status: r.status, envelope: r.body?.status }).toEqual({ status: 409, envelope: 'CONFLICT' });
    expect(r.body?.message).toMatch(/no enabled administrator/);
  };

  beforeAll(async () => {
    await stack.start();
    const session = await login(stack);
    admin = api(stack, session.access_token);
    bootstrapId = session.userId;
    const ops = await createClient('ops-admin', ['admin']);
    const token = (await (await cc('ops-admin', ops.client_secret)).json()) as { access_token: string };
    referee = api(stack, token.access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('refuses disabling, deleting, demoting or removing the credentials of the last administrator (409)', async () => {
    // The admin client holds every permission, yet the bootstrap admin is the only human one.
    expectLastAdminConflict(await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: false }));
    expectLastAdminConflict(await referee.patch(`/api/v1/users/${bootstrapId}`, { roles: ['user'] }));
    expectLastAdminConflict(await referee.del(`/api/v1/users/${bootstrapId}`));
    expectLastAdminConflict(await referee.del(`/api/v1/users/${bootstrapId}/credentials`));
    expect((await admin.get('/api/v1/users/me')).body).toMatchObject({ enabled: true, roles: ['admin'] });
    expect((await login(stack)).access_token).toBeTruthy();

    // Another admin without a password is no way back in: still the last one.
    const backup = await referee.post('/api/v1/users', { username: 'backup', roles: ['admin'] });
    expect(backup.status).toBe(201);
    expectLastAdminConflict(await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: false }));
    // Nor is a disabled one.
    const password = 'backup-password-123';
    expect((await referee.patch(`/api/v1/users/${backup.body.id}`, { password, enabled: false })).status).toBe(200);
    expectLastAdminConflict(await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: false }));

    // With a second able administrator, either may go — but not both.
    expect((await referee.patch(`/api/v1/users/${backup.body.id}`, { enabled: true })).status).toBe(200);
    expect((await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: false })).status).toBe(200);
    expectLastAdminConflict(await referee.patch(`/api/v1/users/${backup.body.id}`, { enabled: false }));
    expectLastAdminConflict(await referee.del(`/api/v1/users/${backup.body.id}`));
    expect((await login(stack, 'backup', password)).access_token).toBeTruthy();

    // Changes that keep the administrator able are not refused.
    expect((await referee.patch(`/api/v1/users/${backup.body.id}`, { roles: ['admin', 'user'] })).status).toBe(200);
    expect((await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: true })).status).toBe(200);
    expect((await referee.del(`/api/v1/users/${backup.body.id}`)).status).toBe(204);
    admin = api(stack, (await login(stack)).access_token);
    expect(await ableAdmins()).toBe(1);
  });

  it('two administrators acting on each other at once never both succeed (many rounds, every operation)', async () => {
    const password = (name: string) => `${name}-admin-password-1`;
    const ids: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
    const ensure = async (name: 'alice' | 'bob') => {
      const found = ids[name] && (await referee.get(`/api/v1/users/${ids[name]}`)).status === 200;
      if (found) {
        const r = await referee.patch(`/api/v1/users/${ids[name]}`, {
          enabled: true,
          roles: ['admin'],
          password: password(name),
        });
        expect(r.status).toBe(200);
      } else {
        const r = await referee.post('/api/v1/users', { username: name, password: password(name), roles: ['admin'] });
        expect(r.status).toBe(201);
        ids[name] = r.body.id;
      }
    };
    await ensure('alice');
    await ensure('bob');
    // Alice and Bob are the only human administrators from here on.
    expect((await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: false })).status).toBe(200);

    const operations: Array<[string, (who: ReturnType<typeof api>, target: string) => ReturnType<typeof admin.get>]> = [
      ['disable', (who, target) => who.patch(`/api/v1/users/${target}`, { enabled: false })],
      ['demote', (who, target) => who.patch(`/api/v1/users/${target}`, { roles: ['user'] })],
      ['remove credentials', (who, target) => who.del(`/api/v1/users/${target}/credentials`)],
      ['delete', (who, target) => who.del(`/api/v1/users/${target}`)],
    ];
    const outcomes: string[] = [];
    for (let round = 0; round < 24; round++) {
      const [name, op] = operations[round % operations.length];
      const alice = api(stack, (await login(stack, 'alice', password('alice'))).access_token);
      const bob = api(stack, (await login(stack, 'bob', password('bob'))).access_token);
      const [a, b] = await Promise.all([op(alice, ids.bob), op(bob, ids.alice)]);
      outcomes.push(`${name}: ${a.status}/${b.status}`);
      // One of them went through; the other was refused: 409, or 401 when its own session ended first.
      expect({ round, name, able: await ableAdmins() }).toEqual({ round, name, able: 1 });
      expect([a.status, b.status].filter((s) => s === 409 || s === 401)).toHaveLength(1);
      await ensure('alice');
      await ensure('bob');
    }
    expect(outcomes).toHaveLength(24);
    expect((await referee.patch(`/api/v1/users/${bootstrapId}`, { enabled: true })).status).toBe(200);
  }, 120000);
});
