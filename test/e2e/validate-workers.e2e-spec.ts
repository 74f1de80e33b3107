import { SUBJECTS } from '@portcullis/contracts';
import { api, clientCredentialsToken, inDays, ReplyBody as Body } from '../support/fixtures';
import { Load, sleep } from '../support/load';
import { login, Stack } from '../support/stack';

const VALIDATIONS = 'portcullis_auth_core_validations_total';

/**
 * VERIFY_WORKERS=2 on both replicas: auth.v1.token.validate is served by worker threads with NATS
 * connections of their own and copies of the replica's state. Every change the main thread makes
 * (a revocation, a disabled client, a rotated key) must hold on every worker the moment the
 * request that made it has been answered — each check below asks 40 times, so all four workers
 * of the two replicas answer some of them.
 */
describe('validate workers (VERIFY_WORKERS=2)', () => {
  const stack = new Stack({ replicas: 2, env: { VERIFY_WORKERS: '2' } });
  let admin: ReturnType<typeof api>;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  /** 40 validations at once; the distinct replies (by valid + message). */
  const ask = async (token: string, extra: Record<string, unknown> = {}) => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, () => stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token, ...extra })),
    );
    return [...new Set(replies.map((r) => (r.valid ? 'valid' : `${r.error?.code}: ${r.error?.message}`)))];
  };

  it('serves validate on the workers of every replica, which count what they answer', async () => {
    expect(stack.logs().match(/is served by 2 worker thread\(s\)/g)).toHaveLength(2);
    for (const port of stack.replicaPorts) {
      const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
        details: Record<string, { status: string }>;
      };
      expect(ready.details.validate).toEqual({ status: 'up' });
    }
    const token = (await login(stack)).access_token;
    const before = [await stack.metric(0, VALIDATIONS), await stack.metric(1, VALIDATIONS)];
    expect(await ask(token)).toEqual(['valid']);
    await sleep(600); // workers report their counts every 250 ms
    const after = [await stack.metric(0, VALIDATIONS), await stack.metric(1, VALIDATIONS)];
    expect(after[0] - before[0] + (after[1] - before[1])).toBe(40);
  });

  it('a revoked token is refused by every worker as soon as the revocation is answered', async () => {
    for (let i = 0; i < 3; i++) {
      const created = await admin.post('/api/v1/tokens', {});
      expect(created.status).toBe(201);
      expect(await ask(created.body.access_token)).toEqual(['valid']);
      expect((await admin.del(`/api/v1/tokens/${created.body.tid}`)).status).toBe(204);
      expect(await ask(created.body.access_token)).toEqual(['UNAUTHENTICATED: Token has been revoked']);
    }
  });

  it("a disabled client's tokens are refused at once; enabled again, its new tokens are accepted at once", async () => {
    const created = await admin.post('/api/v1/clients', { clientId: 'worker-svc', roles: ['service'] });
    expect(created.status).toBe(201);
    const token = () => clientCredentialsToken(stack, 'worker-svc', created.body.client_secret);
    for (let i = 0; i < 2; i++) {
      const t = await token();
      expect(await ask(t)).toEqual(['valid']);
      expect((await admin.post('/api/v1/clients/worker-svc/disable')).status).toBe(200);
      // Disabling also revokes the client's tokens: either refusal is right, acceptance never.
      const refused = await ask(t);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatch(/^UNAUTHENTICATED: Token (owner is disabled|has been revoked)$/);
      expect((await admin.post('/api/v1/clients/worker-svc/enable')).status).toBe(200);
      // A worker that missed the enable would still hold the client disabled.
      expect(await ask(await token())).toEqual(['valid']);
    }
  });

  it('a token signed by a key rotated in a moment ago is accepted by every worker, and so are older ones', async () => {
    const old = (await login(stack)).access_token;
    expect((await admin.post('/api/v1/keys/rotate')).status).toBeLessThan(300);
    const fresh = (await login(stack)).access_token;
    const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
    expect(kid(fresh)).not.toBe(kid(old));
    expect(await ask(fresh)).toEqual(['valid']);
    expect(await ask(old)).toEqual(['valid']);
  });

  it('judges PATs (their records are read on the main thread) and requirements', async () => {
    const pat = await admin.post('/api/v1/users/me/tokens', {
      name: 'workers',
      expiresAt: inDays(1),
      permissions: ['tokens:read'],
      tenants: [],
    });
    expect(pat.status).toBe(201);
    expect(await ask(pat.body.token)).toEqual(['valid']);
    expect(await ask(pat.body.token, { permissions: ['keys:admin'] })).toEqual([
      'FORBIDDEN: Missing permission: keys:admin',
    ]);
    expect(await ask(`${pat.body.token}x`)).toHaveLength(1);
    expect((await ask(`${pat.body.token}x`))[0]).toMatch(/^UNAUTHENTICATED: /);
  });

  it('answers a malformed request with BAD_REQUEST, never an error reply', async () => {
    const notJson = await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, 'not json');
    expect(notJson.json()).toMatchObject({ valid: false, error: { code: 'BAD_REQUEST' } });
    const wrongType = await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token: 42 });
    expect(wrongType).toMatchObject({ valid: false, error: { code: 'BAD_REQUEST' } });
  });

  it('on SIGTERM the workers drain: every validation sent is answered, and the replica exits 0', async () => {
    const token = (await login(stack)).access_token;
    const load = new Load(async () => {
      const r = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token }, 3000);
      return r.valid ? 'ok' : 'invalid';
    }, 16);
    await sleep(1000);
    expect(await stack.replicas[0].stop('SIGTERM', 20000)).toBe(0);
    await sleep(500);
    const outcomes = await load.stop();
    expect(outcomes.length).toBeGreaterThan(100);
    expect(load.failures()).toEqual([]);
    expect(stack.replicas[0].logs()).toMatch(/draining 2 validate worker\(s\)/);
    expect(stack.logs()).not.toMatch(/validate worker \d+ exited/);
  }, 40000);
});
