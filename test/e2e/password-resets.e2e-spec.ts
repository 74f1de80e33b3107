import { SUBJECTS } from '@portcullis/contracts';
import { credentialHelpers } from '../support/credentials';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Password changes and resets as a user of a serious auth service expects them: the current
 * password asked by PUT /users/me/password is not an unlimited oracle for whoever holds a stolen
 * access token, and an administrator's reset (what follows a compromise) ends the sessions the old
 * password opened.
 */
describe('password changes and resets', () => {
  const stack = new Stack({ env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_SECONDS: '60' } });
  let admin: ReturnType<typeof api>;
  const { createUser } = credentialHelpers(stack, () => admin);
  const valid = async (token: string) =>
    (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('wrong current passwords count towards the lockout; a locked account changes nothing', async () => {
    const u = await createUser('guessed');
    const asU = api(stack, (await login(stack, u.username, u.password)).access_token);
    for (let i = 0; i < 3; i++)
      expect(
        (
          await asU.put('/api/v1/users/me/password', {
            currentPassword: `guess-${i}-xyz`,
            newPassword: 'x-new-Passw0rd-1',
          })
        ).status,
      ).toBe(403);
    // Locked now: the right current password is refused like a wrong one, and so is a login.
    const right = await asU.put('/api/v1/users/me/password', {
      currentPassword: u.password,
      newPassword: 'guessed-new-password-1',
    });
    expect(right.status).toBe(403);
    const signIn = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: u.username, password: u.password }),
    });
    expect(signIn.status).toBe(401);
    const failed = (await admin.get('/api/v1/audit?type=password.change_failed')).body.items;
    expect(failed.map((e: { data: { reason: string } }) => e.data.reason)).toEqual([
      'locked',
      'bad_password',
      'bad_password',
      'bad_password',
    ]);
  });

  it("an administrator's reset ends the user's sessions; a self-reset spares the admin's own", async () => {
    const u = await createUser('reset-me');
    const session = await login(stack, u.username, u.password);
    expect(await valid(session.access_token)).toBe(true);
    expect((await admin.patch(`/api/v1/users/${u.id}`, { password: 'reset-me-new-password-2' })).status).toBe(200);
    expect(await valid(session.access_token)).toBe(false);
    const refresh = await fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
    expect(refresh.status).toBe(401);

    const boss = await createUser('boss', ['admin'], ['*']);
    const mine = await login(stack, boss.username, boss.password);
    const other = await login(stack, boss.username, boss.password);
    const asBoss = api(stack, mine.access_token);
    expect((await asBoss.patch(`/api/v1/users/${boss.id}`, { password: 'boss-new-password-3' })).status).toBe(200);
    expect(await valid(mine.access_token)).toBe(true);
    expect(await valid(other.access_token)).toBe(false);
  });

  it('a password an administrator sets is one the user never chose: passwordWasNeverChanged again', async () => {
    // Keycloak's temporary password: whatever the user had chosen before, the reset one is the
    // administrator's, and the client that prompts on passwordWasNeverChanged must prompt again.
    const u = await createUser('temporary');
    const asU = api(stack, (await login(stack, u.username, u.password)).access_token);
    expect(
      (
        await asU.put('/api/v1/users/me/password', {
          currentPassword: u.password,
          newPassword: 'temporary-chosen-pw-1',
        })
      ).status,
    ).toBe(204);
    expect((await login(stack, u.username, 'temporary-chosen-pw-1')).passwordWasNeverChanged).toBe(false);
    expect((await admin.patch(`/api/v1/users/${u.id}`, { password: 'temporary-reset-pw-2' })).status).toBe(200);
    expect((await login(stack, u.username, 'temporary-reset-pw-2')).passwordWasNeverChanged).toBe(true);
    expect((await admin.get(`/api/v1/users/${u.id}`)).body.passwordChangedAt).toBeNull();

    // An administrator who sets their own password through PATCH chose it: it counts as changed.
    const boss = await createUser('self-setter', ['admin'], ['*']);
    const asBoss = api(stack, (await login(stack, boss.username, boss.password)).access_token);
    expect((await asBoss.patch(`/api/v1/users/${boss.id}`, { password: 'self-setter-chosen-3' })).status).toBe(200);
    expect((await login(stack, boss.username, 'self-setter-chosen-3')).passwordWasNeverChanged).toBe(false);
  });

  it('a password may not be the username, however it is set', async () => {
    const username = 'grace.hopper.1906';
    const named = (r: { status: number; body: { error?: { data?: { fields?: Array<{ field: string }> } } } }) => ({
      status: r.status,
      fields: r.body.error?.data?.fields?.map((f) => f.field),
    });
    expect(named(await admin.post('/api/v1/users', { username, password: 'Grace.Hopper.1906' }))).toEqual({
      status: 400,
      fields: ['password'],
    });
    const u = await admin.post('/api/v1/users', { username, password: 'grace-hopper-cobol-1' });
    expect(u.status).toBe(201);
    expect(named(await admin.patch(`/api/v1/users/${u.body.id}`, { password: username.toUpperCase() }))).toEqual({
      status: 400,
      fields: ['password'],
    });
    const asU = api(stack, (await login(stack, username, 'grace-hopper-cobol-1')).access_token);
    const change = await asU.put('/api/v1/users/me/password', {
      currentPassword: 'grace-hopper-cobol-1',
      newPassword: username,
    });
    expect(named(change)).toEqual({ status: 400, fields: ['newPassword'] });
  });

  it('the current password written in another Unicode form is not a new password', async () => {
    // Passwords are hashed and checked in NFC, so 'é' as one code point or as 'e' + U+0301 is
    // one password. Before, the change compared the raw strings: the current password in NFD
    // was taken as a new one (200), the "must differ" rule passed while nothing changed.
    const composed = 'caf\u00e9-au-lait-2024';
    const r = await admin.post('/api/v1/users', { username: 'unicode', password: composed, roles: ['user'] });
    expect(r.status).toBe(201);
    const asU = api(stack, (await login(stack, 'unicode', composed)).access_token);
    const same = await asU.put('/api/v1/users/me/password', {
      currentPassword: composed,
      newPassword: composed.normalize('NFD'),
    });
    expect(same.status).toBe(400);
    expect(same.body.error.data.fields.map((f: { field: string }) => f.field)).toEqual(['newPassword']);
  });
});
