import { api } from '../support/fixtures';
import { AUTH_CORE_MAIN, freePort, login, spawnApp, Stack } from '../support/stack';

/**
 * A rotated-out signing key stays in the JWKS until every token it signed has expired (SPEC §3),
 * whichever route minted the token and whichever of the lifetime caps is the longest.
 */
describe('signing key rotation', () => {
  // Extended tokens capped below POST /tokens' own cap (TOKEN_MAX_TTL, 86400 by default).
  const stack = new Stack({ env: { EXTENDED_TOKEN_MAX_TTL: '600' } });
  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('the retired key verifies until the longest-lived token it signed has expired', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const minted = await admin.post('/api/v1/tokens', { token_life: 86400 });
    expect(minted.status).toBe(201);
    const token = minted.body.access_token as string;
    const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;
    const kid = (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;

    expect((await admin.post('/api/v1/keys/rotate')).status).toBeLessThan(300);
    const keys = (await admin.get('/api/v1/keys')).body.items as Array<{ kid: string; verifyUntil: string | null }>;
    const retired = keys.find((k) => k.kid === kid);
    // Was ACCESS_TOKEN_TTL / EXTENDED_TOKEN_MAX_TTL + skew only: the key left the JWKS after
    // 15.5 minutes and the day-long token was refused as signed by an unknown key.
    expect(Date.parse(retired!.verifyUntil!) / 1000).toBeGreaterThanOrEqual(exp);
    const validated = await api(stack).post('/api/v1/auth/validate', { token });
    expect(validated.body.valid).toBe(true);
  });

  it('a replica given another MASTER_KEY than the one the keys were stored with stops, naming it', async () => {
    const other = `other-${'k'.repeat(40)}`;
    const proc = spawnApp('auth-core(other key)', AUTH_CORE_MAIN, {
      ...stack.coreEnv(await freePort()),
      MASTER_KEY: other,
    });
    const timer = setTimeout(() => void proc.stop('SIGKILL'), 20000);
    const code = await proc.waitForExit();
    clearTimeout(timer);
    // Was "auth-core failed to start: Error: Unsupported state or unable to authenticate data".
    expect(code).toBe(1);
    expect(proc.logs()).toMatch(/MASTER_KEY/);
    expect(proc.logs()).not.toContain(other);
  }, 30000);
});
