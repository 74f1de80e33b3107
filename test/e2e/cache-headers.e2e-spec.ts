import { request } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Native API replies are the caller's alone and many carry a secret or a token: none may be kept by
 * a shared or browser cache. The discovery documents and the JWKS are public and stay cacheable.
 */
const stack = new Stack();
let bearer: string;

beforeAll(async () => {
  await stack.start();
  bearer = (await login(stack)).access_token;
}, 60000);
afterAll(() => stack.stop(), 60000);

async function call(method: string, path: string, body?: unknown, token: string | null = bearer) {
  const r = await request(stack, method, path, body, token ?? undefined);
  return {
    status: r.status,
    body: r.body as Record<string, string> | null,
    cache: { cacheControl: r.headers.get('cache-control'), pragma: r.headers.get('pragma') },
  };
}

const NO_STORE = { cacheControl: 'no-store', pragma: 'no-cache' };

describe('Cache-Control: no-store on the native API', () => {
  it('on every reply that carries a secret or a token', async () => {
    const replies = {
      login: await call('POST', '/api/v1/auth/login', { username: stack.adminUsername, password: stack.adminPassword }),
      client: await call('POST', '/api/v1/clients', { clientId: 'cached', roles: ['service'] }),
      rotate: await call('PATCH', '/api/v1/clients/cached', { rotateSecret: true }),
      apiKey: await call('POST', '/api/v1/clients/cached/api-keys', { name: 'k' }),
      pat: await call('POST', '/api/v1/users/me/tokens', { name: 'p' }),
      token: await call('POST', '/api/v1/tokens', {}),
      system: await call('POST', '/api/v1/auth/system-token'),
    };
    const exchange = await call('POST', '/api/v1/auth', { apiKey: replies.apiKey.body?.apiKey }, null);
    const refresh = await call(
      'POST',
      '/api/v1/auth/refresh',
      { refresh_token: replies.login.body?.refresh_token },
      null,
    );
    for (const [label, r] of Object.entries({ ...replies, exchange, refresh })) {
      expect({ label, status: r.status < 300 }).toEqual({ label, status: true });
      expect({ label, ...r.cache }).toEqual({ label, ...NO_STORE });
    }
    expect(replies.client.body?.client_secret).toEqual(expect.any(String));
  });

  it('on reads and on error replies too (they are per-caller all the same)', async () => {
    for (const [label, r, status] of [
      ['me', await call('GET', '/api/v1/auth/me'), 200],
      ['unauthenticated', await call('GET', '/api/v1/auth/me', undefined, null), 401],
      ['bad input', await call('POST', '/api/v1/clients', { clientId: '' }), 400],
      ['no such route', await call('GET', '/api/v1/no-such-thing'), 404],
      ['path parameter too long', await call('GET', `/api/v1/clients/${'x'.repeat(300)}`), 400],
    ] as const) {
      expect({ label, status: r.status, ...r.cache }).toEqual({ label, status, ...NO_STORE });
    }
  });

  it('the public documents stay cacheable', async () => {
    for (const path of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      const r = await call('GET', path, undefined, null);
      expect(r.status).toBe(200);
      expect(r.cache.cacheControl ?? '').not.toContain('no-store');
      expect(r.cache.pragma).toBeNull();
    }
  });
});
