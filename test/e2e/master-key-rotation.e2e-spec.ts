import { randomBytes } from 'node:crypto';
import { api, clientCredentialsToken, inDays } from '../support/fixtures';
import { AUTH_CORE_MAIN, freePort, login, ManagedProcess, spawnApp, Stack, waitForReady } from '../support/stack';

/**
 * Rotating MASTER_KEY: start with key A, move to B giving A as MASTER_KEY_PREVIOUS, then drop A.
 * Every stored secret (session refresh tokens, PATs, client secrets) and every signing key keeps
 * working through both steps; A alone no longer opens the database afterwards.
 */
describe('MASTER_KEY rotation with MASTER_KEY_PREVIOUS', () => {
  const stack = new Stack();
  const keyB = randomBytes(48).toString('base64');
  let admin: ReturnType<typeof api>;
  let refreshToken: string;
  let pat: string;
  let clientSecret: string;
  let accessToken: string;

  /** The running auth-core replica replaced by one with `env` on top of the stack's. */
  async function restartCore(env: Record<string, string>): Promise<ManagedProcess> {
    for (const r of stack.replicas) await r.stop();
    const port = await freePort();
    const proc = spawnApp('auth-core(new key)', AUTH_CORE_MAIN, { ...stack.coreEnv(port), ...env });
    stack.replicas.push(proc);
    await waitForReady(`http://127.0.0.1:${port}/health/ready`, proc);
    return proc;
  }

  /** Everything stored before still works, and new secrets can be made and used. */
  async function everythingStillWorks(): Promise<void> {
    expect((await api(stack, accessToken).get('/api/v1/auth/validate')).status).toBe(200);
    expect((await api(stack, pat).get('/api/v1/auth/validate')).status).toBe(200);
    const refreshed = await api(stack).post('/api/v1/auth/refresh', { refresh_token: refreshToken });
    expect(refreshed.status).toBe(200);
    refreshToken = (refreshed.body as { refresh_token: string }).refresh_token;
    const cc = await clientCredentialsToken(stack, 'mk-client', clientSecret);
    expect((await api(stack, cc).get('/api/v1/auth/validate')).status).toBe(200);
    accessToken = (await login(stack)).access_token;
    admin = api(stack, accessToken);
    expect((await admin.post('/api/v1/keys/rotate')).status).toBe(201);
    const fresh = (await login(stack)).access_token;
    expect((await api(stack, fresh).get('/api/v1/auth/validate')).status).toBe(200);
  }

  beforeAll(async () => {
    await stack.start();
    const session = await login(stack);
    accessToken = session.access_token;
    refreshToken = session.refresh_token;
    admin = api(stack, accessToken);
    pat = (
      await admin.post('/api/v1/users/me/tokens', { name: 'mk', expiresAt: inDays(1), permissions: [], tenants: [] })
    ).body.token;
    clientSecret = (await admin.post('/api/v1/clients', { clientId: 'mk-client', roles: ['service'] })).body
      .client_secret;
    expect(pat).toBeTruthy();
    expect(clientSecret).toBeTruthy();
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('MASTER_KEY=B with MASTER_KEY_PREVIOUS=A: starts, and every stored secret and key still works', async () => {
    // As a database from before the secret-hash key was stored: it is derived from A, as then.
    await stack.query('DELETE FROM master_key_material');
    // Was: exit 1, "MASTER_KEY cannot decrypt the active signing key" (no previous key was read).
    await restartCore({ MASTER_KEY: keyB, MASTER_KEY_PREVIOUS: stack.masterKey });
    await everythingStillWorks();
  }, 60000);

  it('then MASTER_KEY=B alone: still starts and works (everything was stored again under B)', async () => {
    const proc = await restartCore({ MASTER_KEY: keyB });
    await everythingStillWorks();
    expect(proc.logs()).not.toContain(keyB);
    expect(proc.logs()).not.toContain(stack.masterKey);
  }, 60000);

  it('and the old MASTER_KEY alone no longer opens the database: auth-core stops, naming MASTER_KEY', async () => {
    for (const r of stack.replicas) await r.stop();
    const proc = spawnApp('auth-core(old key)', AUTH_CORE_MAIN, { ...stack.coreEnv(await freePort()) });
    const timer = setTimeout(() => void proc.stop('SIGKILL'), 20000);
    const code = await proc.waitForExit();
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(proc.logs()).toMatch(/MASTER_KEY/);
    expect(proc.logs()).not.toContain(stack.masterKey);
  }, 30000);

  it('a further rotation (C, with B as previous) moves the stored material again', async () => {
    const keyC = randomBytes(48).toString('base64');
    await restartCore({ MASTER_KEY: keyC, MASTER_KEY_PREVIOUS: `${randomBytes(40).toString('hex')},${keyB}` });
    await everythingStillWorks();
    await restartCore({ MASTER_KEY: keyC });
    await everythingStillWorks();
  }, 60000);
});

/**
 * The same change rolled over running replicas, as a Deployment does: for a while a replica still
 * on A serves beside one on B (with A as previous). A signing key rotated then by the replica on A
 * is stored under A; once the roll is over and A is dropped, that is the active key, and no
 * replica given B alone started any more ("MASTER_KEY cannot decrypt the active signing key").
 */
describe('MASTER_KEY rolled over running replicas, with a signing-key rotation in between', () => {
  const stack = new Stack();
  const keyB = randomBytes(48).toString('base64');

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('the key the replica still on the old MASTER_KEY made is stored again under the new one', async () => {
    const [onA] = stack.replicas;
    const portB = await freePort();
    const onB = spawnApp('auth-core(B, A previous)', AUTH_CORE_MAIN, {
      ...stack.coreEnv(portB),
      MASTER_KEY: keyB,
      MASTER_KEY_PREVIOUS: stack.masterKey,
    });
    stack.replicas.push(onB);
    await waitForReady(`http://127.0.0.1:${portB}/health/ready`, onB);
    // The queue group picks the replica: rotate until the one on A has made the active key.
    const admin = api(stack, (await login(stack)).access_token);
    let kid = '';
    for (let i = 0; i < 30 && !onA.logs().includes(`created signing key ${kid} `); i++) {
      const res = await admin.post('/api/v1/keys/rotate');
      expect(res.status).toBe(201);
      kid = (res.body as { kid: string }).kid;
    }
    expect(onA.logs()).toContain(`created signing key ${kid} `);
    // The roll ends: A's replica goes, B's heard of the rotation; then MASTER_KEY_PREVIOUS is dropped.
    await new Promise((r) => setTimeout(r, 1500));
    for (const r of stack.replicas) await r.stop();
    const port = await freePort();
    const proc = spawnApp('auth-core(B alone)', AUTH_CORE_MAIN, { ...stack.coreEnv(port), MASTER_KEY: keyB });
    stack.replicas.push(proc);
    await waitForReady(`http://127.0.0.1:${port}/health/ready`, proc);
    const token = (await login(stack)).access_token;
    expect((await api(stack, token).get('/api/v1/auth/validate')).status).toBe(200);
  }, 90000);
});
