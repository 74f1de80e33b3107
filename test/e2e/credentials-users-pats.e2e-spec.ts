import { credentialHelpers } from '../support/credentials';
import { api, inDays } from '../support/fixtures';
import { login, Stack } from '../support/stack';

// Users and their credentials; the API keys of issue #5 are in credentials-api-keys.e2e-spec.ts.
describe('users, PATs, API keys, permissions and tenants (issue #5)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { validate, everywhereInvalid, createUser } = credentialHelpers(stack, () => admin);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('users admin: create, read, list, update, change own password, delete', async () => {
    const u = await createUser('dora');
    expect((await admin.post('/api/v1/users', { username: 'DORA', password: 'another-password-1' })).status).toBe(409);
    expect(
      (await admin.post('/api/v1/users', { username: 'weak', password: 'short' })).body.error.data.fields[0].field,
    ).toBe('password');
    expect((await admin.get(`/api/v1/users/${u.id}`)).body.username).toBe('dora');
    expect((await admin.get('/api/v1/users')).body.items.map((i: { username: string }) => i.username)).toEqual(
      expect.arrayContaining(['admin', 'dora']),
    );
    const s1 = await login(stack, 'dora', u.password);
    expect(s1.passwordWasNeverChanged).toBe(true);
    const s2 = await login(stack, 'dora', u.password);
    const dora = api(stack, s2.access_token);
    expect((await dora.get('/api/v1/users')).status).toBe(403);
    expect(
      (
        await dora.put('/api/v1/users/me/password', {
          currentPassword: 'wrong-wrong-wrong',
          newPassword: 'dora-new-password-1',
        })
      ).status,
    ).toBe(403);
    // Long enough is not enough: a run of one character or a keyboard sequence is refused, by name.
    for (const weak of ['aaaaaaaaaaaaaaaa', '123456789012', 'qwertyuiopasdf']) {
      const r = await dora.put('/api/v1/users/me/password', { currentPassword: u.password, newPassword: weak });
      expect(r.status).toBe(400);
      expect(r.body.error.data.fields[0].field).toBe('newPassword');
    }
    expect((await admin.post('/api/v1/users', { username: 'weakling', password: 'password1234' })).status).toBe(400);
    expect(
      (await dora.put('/api/v1/users/me/password', { currentPassword: u.password, newPassword: 'dora-new-password-1' }))
        .status,
    ).toBe(204);
    await everywhereInvalid(s1.access_token);
    expect((await validate(s2.access_token)).valid).toBe(true);
    const s3 = await login(stack, 'dora', 'dora-new-password-1');
    expect(s3.passwordWasNeverChanged).toBe(false);
    expect((await dora.get('/api/v1/users/me')).body.passwordChangedAt).toEqual(expect.any(String));

    expect((await admin.patch(`/api/v1/users/${u.id}`, { enabled: false })).body.enabled).toBe(false);
    await everywhereInvalid(s3.access_token);
    expect(
      (
        await fetch(`${stack.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'dora', password: 'dora-new-password-1' }),
        })
      ).status,
    ).toBe(401);
    await admin.patch(`/api/v1/users/${u.id}`, { enabled: true });
    expect((await login(stack, 'dora', 'dora-new-password-1')).access_token).toBeTruthy();
    expect((await admin.del(`/api/v1/users/${u.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/users/${u.id}`)).status).toBe(404);

    // An administrator cannot lock themselves out: no self-disable, no dropping their own admin role.
    const me = (await admin.get('/api/v1/users/me')).body;
    expect((await admin.patch(`/api/v1/users/${me.id}`, { enabled: false })).status).toBe(409);
    expect((await admin.patch(`/api/v1/users/${me.id}`, { roles: ['user'] })).status).toBe(409);
    expect((await admin.del(`/api/v1/users/${me.id}`)).status).toBe(409);
    // Nor remove their own credentials (password, PATs, every token: no way back in either).
    const ownCredentials = await admin.del(`/api/v1/users/${me.id}/credentials`);
    expect(ownCredentials.status).toBe(409);
    expect(ownCredentials.body).toMatchObject({ status: 'CONFLICT', error: { errorKey: 'CONFLICT' } });
    expect((await admin.get('/api/v1/users/me')).body).toMatchObject({ enabled: true, roles: me.roles });
    expect((await login(stack)).access_token).toBeTruthy();
  });

  it('users created at once under one name (any case): one is made, the others are conflicts, never a 500', async () => {
    const racing = await Promise.all(
      ['racer', 'RACER', 'Racer', 'racer', 'rAcer', 'raceR'].map((username) =>
        admin.post('/api/v1/users', { username, password: 'racer-password-123' }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(racing.filter((r) => r.status === 409).every((r) => r.body.status === 'CONFLICT')).toBe(true);
    const made = await admin.get('/api/v1/users?username=racer');
    expect(made.body.items).toHaveLength(1);
  });

  it('a username matches in any ASCII case and in no other writing: look-alike names sign in as nobody', async () => {
    const kate = await createUser('kate');
    const signIn = (username: string) =>
      fetch(`${stack.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: kate.password }),
      });
    expect((await signIn('KATE')).status).toBe(200);
    // The Kelvin sign (U+212A) is K once in NFC: it signed in as kate, a name create refuses.
    for (const lookalike of ['\u212Aate', '\u212AATE', '\uFF4Bate', 'k\u200Bate', ' kate', 'kate '])
      expect({ lookalike, status: (await signIn(lookalike)).status }).toEqual({ lookalike, status: 401 });
    expect((await admin.post('/api/v1/users', { username: '\u212Aate', password: kate.password })).status).toBe(400);
  });

  it('PAT lifecycle: create, name clash, bad expiry, too wide, use as bearer, list, delete by value and by name', async () => {
    const u = await createUser('erin', ['user'], ['acme', 'globex']);
    const erin = api(stack, (await login(stack, 'erin', u.password)).access_token);
    const created = await erin.post('/api/v1/users/me/tokens', {
      name: 'ci',
      expiresAt: inDays(30),
      permissions: ['tokens:read'],
      tenants: ['acme'],
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^pcl_pat_[A-Za-z0-9_-]{43}_[A-Za-z0-9_-]{6}$/);
    expect(created.body).toMatchObject({ name: 'ci', permissions: ['tokens:read'], tenants: ['acme'] });
    const pat = created.body.token as string;

    expect(
      (await erin.post('/api/v1/users/me/tokens', { name: 'ci', expiresAt: inDays(1), permissions: [], tenants: [] }))
        .status,
    ).toBe(409);
    // Created at once under one name: one is made, the others are conflicts, never a 500.
    const racing = await Promise.all(
      Array.from({ length: 6 }, () =>
        erin.post('/api/v1/users/me/tokens', { name: 'race', expiresAt: inDays(1), permissions: [], tenants: [] }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect((await erin.del('/api/v1/users/me/tokens/race')).status).toBe(204);
    const past = await erin.post('/api/v1/users/me/tokens', {
      name: 'old',
      expiresAt: inDays(-1),
      permissions: [],
      tenants: [],
    });
    expect(past.status).toBe(400);
    expect(past.body.error.data.fields[0].field).toBe('expiresAt');
    expect(
      (
        await erin.post('/api/v1/users/me/tokens', {
          name: 'far',
          expiresAt: inDays(400),
          permissions: [],
          tenants: [],
        })
      ).status,
    ).toBe(400);
    const wide = await erin.post('/api/v1/users/me/tokens', {
      name: 'wide',
      expiresAt: inDays(1),
      permissions: ['users:write'],
      tenants: [],
    });
    expect(wide.status).toBe(403);
    expect(wide.body.message).toContain('users:write');
    const foreign = await erin.post('/api/v1/users/me/tokens', {
      name: 'foreign',
      expiresAt: inDays(1),
      permissions: [],
      tenants: ['initech'],
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toContain('initech');

    const v = await validate(pat);
    expect(v).toMatchObject({
      valid: true,
      claims: { typ: 'pat', sub: u.id, perms: ['tokens:read'], tenants: ['acme'] },
    });
    expect((await validate(pat, { permissions: ['tokens:write'] })).error?.code).toBe('FORBIDDEN');
    expect((await validate(pat, { tenant: 'acme' })).valid).toBe(true);
    expect((await validate(pat, { tenant: 'globex' })).error?.code).toBe('FORBIDDEN');
    const viaPat = api(stack, pat);
    expect((await viaPat.get('/api/v1/tokens')).status).toBe(200);
    expect((await viaPat.post('/api/v1/tokens', {})).status).toBe(403);
    const restTenant = await fetch(`${stack.url}/api/v1/auth/validate?tenant=globex`, {
      headers: { authorization: `Bearer ${pat}` },
    });
    expect(restTenant.status).toBe(403);

    const listed = await erin.get('/api/v1/users/me/tokens');
    expect(listed.body.items).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(pat);
    expect(listed.body.items[0]).toHaveProperty('lastUsedAt');
    const [row] = await stack.query<{ hex: string }>(
      `SELECT encode(token_hash, 'hex') AS hex FROM personal_access_tokens WHERE name = 'ci'`,
    );
    expect(row.hex).toHaveLength(64);

    // By value, only among the path's user's tokens (credentials-pat-scope.e2e-spec.ts): from another
    // account it is not found; whoever holds a leaked token kills it with itself as the bearer.
    const finder = api(stack, (await login(stack)).access_token);
    expect((await finder.del(`/api/v1/users/me/tokens/${pat}`)).status).toBe(404);
    expect((await validate(pat)).valid).toBe(true);
    expect((await viaPat.del(`/api/v1/users/me/tokens/${pat}`)).status).toBe(204);
    await everywhereInvalid(pat);
    expect((await viaPat.get('/api/v1/tokens')).status).toBe(401);

    const second = await erin.post('/api/v1/users/me/tokens', {
      name: 'deploy',
      expiresAt: inDays(2),
      permissions: [],
      tenants: [],
    });
    expect((await validate(second.body.token)).valid).toBe(true);
    expect((await erin.del('/api/v1/users/me/tokens/deploy')).status).toBe(204);
    await everywhereInvalid(second.body.token);
    // Deleting again, by name or by value, answers the same and changes nothing (revocation is
    // idempotent); only a name or value never issued is not found.
    const deletions = async () =>
      (await stack.query(`SELECT 1 FROM audit_events WHERE type = 'pat.deleted' AND subject = $1`, [u.id])).length;
    const deletedSoFar = await deletions();
    expect((await erin.del('/api/v1/users/me/tokens/deploy')).status).toBe(204);
    expect((await erin.del(`/api/v1/users/me/tokens/${second.body.token}`)).status).toBe(204);
    expect((await erin.del(`/api/v1/users/me/tokens/${pat}`)).status).toBe(204);
    expect(await deletions()).toBe(deletedSoFar);
    expect((await validate(second.body.token)).valid).toBe(false);
    expect((await erin.del('/api/v1/users/me/tokens/never-made')).status).toBe(404);
    expect((await erin.del(`/api/v1/users/me/tokens/${second.body.token.slice(0, -6)}AAAAAA`)).status).toBe(404);
    // A deleted token's name is free again; the new token is live, the old one stays dead.
    const again = await erin.post('/api/v1/users/me/tokens', { name: 'deploy', expiresAt: inDays(2) });
    expect(again.status).toBe(201);
    expect((await validate(again.body.token)).valid).toBe(true);
    expect((await validate(second.body.token)).valid).toBe(false);
    expect((await erin.get('/api/v1/users/me/tokens')).body.items.map((t: { name: string }) => t.name)).toEqual([
      'deploy',
    ]);
    expect((await erin.del('/api/v1/users/me/tokens/deploy')).status).toBe(204);
    await everywhereInvalid(again.body.token);

    // Admins manage PATs of others; a malformed PAT is refused without a look-up.
    const forErin = await admin.post(`/api/v1/users/${u.id}/tokens`, {
      name: 'by-admin',
      expiresAt: inDays(1),
      permissions: [],
      tenants: ['globex'],
    });
    expect(forErin.status).toBe(201);
    expect((await admin.get(`/api/v1/users/${u.id}/tokens`)).body.items.map((t: { name: string }) => t.name)).toEqual([
      'by-admin',
    ]);
    expect((await erin.get(`/api/v1/users/${(await admin.get('/api/v1/users/me')).body.id}/tokens`)).status).toBe(403);
    expect((await admin.get('/api/v1/users/00000000-0000-4000-8000-000000000000/tokens')).status).toBe(404);

    // Only a name is required: 30 days, the owner's permissions and tenants.
    const plain = await erin.post('/api/v1/users/me/tokens', { name: 'pcl_pat_plain' });
    expect(plain.status).toBe(201);
    const days = (Date.parse(plain.body.expiresAt) - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(plain.body.tenants).toEqual(['acme', 'globex']);
    expect(plain.body.permissions).toEqual(expect.arrayContaining(['tokens:read']));
    expect((await validate(plain.body.token)).valid).toBe(true);
    // A name that starts like a token is still deletable by name.
    expect((await erin.del('/api/v1/users/me/tokens/pcl_pat_plain')).status).toBe(204);
    await everywhereInvalid(plain.body.token);
    expect(
      (await validate(forErin.body.token.slice(0, -1) + (forErin.body.token.endsWith('A') ? 'B' : 'A'))).valid,
    ).toBe(false);
  });

  it('users/{id}/revoke and credentials removal, checked by trying every credential', async () => {
    const u = await createUser('frank');
    const session = await login(stack, 'frank', u.password);
    const frank = api(stack, session.access_token);
    const pat = (
      await frank.post('/api/v1/users/me/tokens', {
        name: 'x',
        expiresAt: inDays(1),
        permissions: ['tokens:read'],
        tenants: [],
      })
    ).body.token;

    expect((await admin.post(`/api/v1/users/${u.id}/revoke`)).body.count).toBeGreaterThanOrEqual(1);
    await everywhereInvalid(session.access_token);
    expect(
      (
        await fetch(`${stack.url}/api/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: session.refresh_token }),
        })
      ).status,
    ).toBe(401);
    expect((await validate(pat)).valid).toBe(true);

    const again = await login(stack, 'frank', u.password);
    expect((await admin.del(`/api/v1/users/${u.id}/credentials`)).status).toBe(204);
    await everywhereInvalid(again.access_token);
    await everywhereInvalid(pat);
    expect(
      (
        await fetch(`${stack.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'frank', password: u.password }),
        })
      ).status,
    ).toBe(401);
    expect((await admin.get(`/api/v1/users/${u.id}`)).body.hasPassword).toBe(false);
    await admin.patch(`/api/v1/users/${u.id}`, { password: 'frank-fresh-password-1' });
    expect((await login(stack, 'frank', 'frank-fresh-password-1')).access_token).toBeTruthy();
  });

  it('a token from POST /tokens ends with the sessions of its user, whichever way they end', async () => {
    const u = await createUser('hank');
    const mint = async (bearer: string) => {
      const r = await api(stack, bearer).post('/api/v1/tokens', {});
      expect(r.status).toBe(201);
      return r.body.access_token as string;
    };
    const refused = async (token: string) => {
      expect((await api(stack, token).get('/api/v1/auth/validate')).status).toBe(401);
      expect((await api(stack, token).post('/api/v1/tokens', {})).status).toBe(401);
      await everywhereInvalid(token);
    };
    const session = await login(stack, 'hank', u.password);

    // A password change spares the caller's own session: its family, which the tokens minted from
    // it joined (token-lineage.ts), and nothing else.
    const elsewhere = await login(stack, 'hank', u.password);
    const [own, sibling, other] = [
      await mint(session.access_token),
      await mint(session.access_token),
      await mint(elsewhere.access_token),
    ];
    const changed = await api(stack, own).put('/api/v1/users/me/password', {
      currentPassword: u.password,
      newPassword: 'hank-new-password-1',
    });
    expect(changed.status).toBe(204);
    await refused(other);
    await refused(elsewhere.access_token);
    for (const spared of [own, sibling, session.access_token])
      expect((await api(stack, spared).get('/api/v1/auth/validate')).status).toBe(200);

    const minted = await mint(own);
    expect((await admin.post(`/api/v1/users/${u.id}/revoke`)).body.count).toBeGreaterThanOrEqual(2);
    await refused(minted);
    await refused(own);

    // Enabled again, the user may sign in again; the tokens the disable ended stay dead.
    const beforeDisable = await mint((await login(stack, 'hank', 'hank-new-password-1')).access_token);
    expect((await admin.patch(`/api/v1/users/${u.id}`, { enabled: false })).status).toBe(200);
    expect((await admin.patch(`/api/v1/users/${u.id}`, { enabled: true })).status).toBe(200);
    await refused(beforeDisable);

    const beforeRemoval = await mint((await login(stack, 'hank', 'hank-new-password-1')).access_token);
    expect((await admin.del(`/api/v1/users/${u.id}/credentials`)).status).toBe(204);
    await refused(beforeRemoval);
  });

  it('tenant isolation: a tenant-A token asked about tenant B is refused over REST and NATS', async () => {
    const u = await createUser('gina', ['user'], ['tenant-a']);
    const t = (await login(stack, 'gina', u.password)).access_token;
    expect((await validate(t, { tenant: 'tenant-a' })).valid).toBe(true);
    expect(await validate(t, { tenant: 'tenant-b' })).toMatchObject({ valid: false, error: { code: 'FORBIDDEN' } });
    const rest = await fetch(`${stack.url}/api/v1/auth/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t, tenant: 'tenant-b' }),
    });
    expect(rest.status).toBe(403);
  });
});
