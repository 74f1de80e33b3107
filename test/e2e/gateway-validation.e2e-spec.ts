import { connect } from 'node:net';
import type { ErrorEnvelope } from '@portcullis/contracts';
import { api, clientCredentialsToken, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * REST validation verifies JWTs in the gateway (SDK local mode) instead of asking auth-core each
 * time. What must not change: a revocation or a disable answered through the gateway is refused by
 * it at once, PATs are still judged by auth-core, and the gateway fails closed when auth-core falls
 * silent.
 */
/** Validations the gateway answered by path: `local` (verified here) or `auth-core`. */
const gatewayValidations = async (stack: Stack, path: 'local' | 'auth-core') => {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`portcullis_gateway_token_validations_total{path="${path}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};
const validateAt = (stack: Stack, token: string, query = '') =>
  fetch(`${stack.url}/api/v1/auth/validate${query}`, { headers: { authorization: `Bearer ${token}` } });

describe('REST validation in the gateway', () => {
  const stack = new Stack();
  let admin: ReturnType<typeof api>;

  const gatewayMetric = (path: 'local' | 'auth-core') => gatewayValidations(stack, path);
  const validate = (token: string, query = '') => validateAt(stack, token, query);
  /** The gateway goes local once it has synced with auth-core, a moment after it is ready. */
  const localIsLive = async () => {
    const token = (await login(stack)).access_token;
    for (let i = 0; i < 100; i++) {
      const before = await gatewayMetric('local');
      await validate(token);
      if ((await gatewayMetric('local')) > before) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the gateway never validated locally\n${stack.logs()}`);
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    await localIsLive();
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('answers JWTs without auth-core, with the same reply and requirement checks', async () => {
    const t = await login(stack);
    const validations = async () => {
      const text = await (await fetch(`http://127.0.0.1:${stack.replicaPorts[0]}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('portcullis_auth_core_nats_requests_total{') && l.includes('token.validate"'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    };
    const [localBefore, coreBefore] = [await gatewayMetric('local'), await validations()];
    const res = await validate(t.access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const first = await res.text();
    expect(JSON.parse(first)).toMatchObject({ valid: true, claims: { jti: t.tid, sub: t.userId, roles: ['admin'] } });
    // Asked again, the same token's reply is the same bytes (encoded once); the verdict is still
    // reached each time: the requirement below and the revocations of the next test are refused.
    expect(await (await validate(t.access_token)).text()).toBe(first);
    expect((await validate(t.access_token, '?roles=admin')).status).toBe(200);
    const forbidden = await validate(t.access_token, '?roles=nobody');
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await readJson<ErrorEnvelope>(forbidden)).status).toBe('FORBIDDEN');
    const bad = await validate(`${t.access_token.slice(0, -4)}AAAA`);
    expect(bad.status).toBe(401);
    expect(await gatewayMetric('local')).toBe(localBefore + 5);
    expect(await validations()).toBe(coreBefore);
    // At the default level (info) the gateway writes no line per request (the access log is debug's).
    expect(stack.gateway.logs()).not.toContain('"msg":"request"');
  });

  it('refuses a token as soon as its revocation has been answered, every time', async () => {
    for (let i = 0; i < 20; i++) {
      const t = await admin.post('/api/v1/tokens', {});
      expect(t.status).toBe(201);
      expect((await validate(t.body.access_token)).status).toBe(200);
      expect((await admin.del(`/api/v1/tokens/${t.body.tid}`)).status).toBe(204);
      const after = await validate(t.body.access_token);
      expect({ i, status: after.status }).toEqual({ i, status: 401 });
    }
  });

  it('refuses the tokens of a client as soon as its disable has been answered, and its new tokens after enable', async () => {
    const created = await admin.post('/api/v1/clients', { clientId: 'gw-local', roles: ['service'] });
    expect(created.status).toBe(201);
    const token = () => clientCredentialsToken(stack, 'gw-local', created.body.client_secret);
    for (let i = 0; i < 5; i++) {
      const t = await token();
      expect((await validate(t)).status).toBe(200);
      expect((await admin.post('/api/v1/clients/gw-local/disable')).status).toBe(200);
      expect({ i, status: (await validate(t)).status }).toEqual({ i, status: 401 });
      expect((await admin.post('/api/v1/clients/gw-local/enable')).status).toBe(200);
      expect({ i, status: (await validate(await token())).status }).toEqual({ i, status: 200 });
    }
  });

  it('accepts a token signed by a key rotated in a moment ago, even while its own JWKS refetch is held back', async () => {
    const t = await login(stack);
    // A token naming an unknown kid makes the gateway refetch the JWKS, then hold further refetches back.
    const [, payload, sig] = t.access_token.split('.');
    const forgedHeader = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'no-such-key', typ: 'JWT' })).toString(
      'base64url',
    );
    expect((await validate(`${forgedHeader}.${payload}.${sig}`)).status).toBe(401);
    expect((await admin.post('/api/v1/keys/rotate')).status).toBeLessThan(300);
    const fresh = await login(stack);
    expect(JSON.parse(Buffer.from(fresh.access_token.split('.')[0], 'base64url').toString()).kid).not.toBe(
      JSON.parse(Buffer.from(t.access_token.split('.')[0], 'base64url').toString()).kid,
    );
    expect((await validate(fresh.access_token)).status).toBe(200);
    expect((await validate(t.access_token)).status).toBe(200);
  });

  it('takes `Bearer` followed by several spaces; refuses several Authorization headers', async () => {
    const token = (await login(stack)).access_token;
    for (const path of ['/api/v1/auth/validate', '/api/v1/auth/me'])
      expect((await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer   ${token}` } })).status).toBe(
        200,
      );
    // fetch would join two headers into one; a raw request sends both, as a confused proxy might.
    const raw = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(stack.url).port), '127.0.0.1', () =>
          socket.end(
            `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
              `Authorization: Bearer forged\r\nConnection: close\r\n\r\n`,
          ),
        );
        let reply = '';
        socket.on('data', (d) => (reply += d.toString()));
        socket.on('end', () => resolve(reply));
        socket.on('error', reject);
      });
    const native = await raw('/api/v1/auth/me');
    expect(native).toMatch(/^HTTP\/1\.1 400/);
    expect(native).toContain('"field":"authorization"');
    expect(await raw('/api/v1/auth/validate')).toMatch(/^HTTP\/1\.1 400/);
  });

  it('leaves PATs to auth-core', async () => {
    const pat = await admin.post('/api/v1/users/me/tokens', {
      name: 'gw-local',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      permissions: [],
      tenants: [],
    });
    expect(pat.status).toBe(201);
    const before = await gatewayMetric('auth-core');
    expect((await validate(pat.body.token)).status).toBe(200);
    expect(await gatewayMetric('auth-core')).toBe(before + 1);
  });

  it('fails closed once auth-core has been silent for three heartbeats', async () => {
    const t = await login(stack);
    expect((await validate(t.access_token)).status).toBe(200);
    await stack.replicas[0].stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 4000));
    const res = await validate(t.access_token);
    expect(res.status).toBe(503);
    expect((await readJson<ErrorEnvelope>(res)).status).toBe('UNAVAILABLE');
  }, 30000);
});

describe('REST validation with LOCAL_JWT_VALIDATION=false', () => {
  const stack = new Stack({ gatewayEnv: { LOCAL_JWT_VALIDATION: 'false' } });
  afterAll(() => stack.stop(), 60000);

  it('asks auth-core for every token, with the same answers', async () => {
    await stack.start();
    const t = await login(stack);
    const validate = (token: string, query = '') => validateAt(stack, token, query);
    const metrics = async () => ({
      local: await gatewayValidations(stack, 'local'),
      core: await gatewayValidations(stack, 'auth-core'),
    });
    const before = await metrics();
    // Long enough for local mode to have gone live, had it been on.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await validate(t.access_token)).status).toBe(200);
    expect((await validate(t.access_token, '?roles=nobody')).status).toBe(403);
    expect((await validate(`${t.access_token.slice(0, -4)}AAAA`)).status).toBe(401);
    const admin = api(stack, t.access_token);
    const other = await admin.post('/api/v1/tokens', {});
    expect((await admin.del(`/api/v1/tokens/${other.body.tid}`)).status).toBe(204);
    expect((await validate(other.body.access_token)).status).toBe(401);
    expect(await metrics()).toEqual({ local: 0, core: before.core + 4 });
    expect(stack.logs()).toContain('local JWT validation is off');
  }, 90000);
});
