import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * /docs-json documents the errors an operation can answer. What the route table says on its own
 * (a body → 400, a bearer → 401/403, a path parameter → 404) misses the errors of the operations
 * that check a credential of their own (a password, a refresh token, an API key, a registration
 * token) and the 409 of every create whose name can be taken. Each case here makes the error
 * happen against the running apps, then looks it up in the document: a client generated from
 * the document knows every answer it can get.
 */
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>> };

const REGISTRATION_TOKEN = 'registration-token-for-documented-errors';
const stack = new Stack({
  env: { CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN },
  gatewayEnv: { LOGIN_FAILURES_PER_IP: '3' },
});
let admin: ReturnType<typeof api>;
let doc: Doc;

beforeAll(async () => {
  await stack.start();
  admin = api(stack, (await login(stack)).access_token);
  doc = (await (await fetch(`${stack.url}/docs-json`)).json()) as Doc;
}, 60000);
afterAll(() => stack.stop(), 60000);

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** The status is the one expected, and the document lists it for that operation, with a body schema. */
function expectDocumented(method: string, path: string, status: number, seen: number) {
  const response = doc.paths[path]?.[method]?.responses?.[String(status)];
  expect({ op: `${method.toUpperCase()} ${path}`, seen, documented: !!response, schema: !!response?.content }).toEqual({
    op: `${method.toUpperCase()} ${path}`,
    seen: status,
    documented: true,
    schema: true,
  });
}

describe('the errors of operations that check a credential of their own are documented', () => {
  it('POST /auth/login: a wrong password → 401', async () => {
    const r = await post('/api/v1/auth/login', { username: stack.adminUsername, password: 'not-the-password' });
    expectDocumented('post', '/api/v1/auth/login', 401, r.status);
  });

  it('POST /auth/refresh: an unknown refresh token → 401', async () => {
    const r = await post('/api/v1/auth/refresh', { refresh_token: `pcl_rt_${'x'.repeat(43)}` });
    expectDocumented('post', '/api/v1/auth/refresh', 401, r.status);
  });

  it('POST /auth: an unknown API key → 401', async () => {
    const r = await post('/api/v1/auth', { apiKey: `pcl_key_${'A'.repeat(43)}_AAAAAA` });
    expectDocumented('post', '/api/v1/auth', 401, r.status);
  });

  it('POST /auth/validate: a bad token → 401, a missing role → 403', async () => {
    expectDocumented(
      'post',
      '/api/v1/auth/validate',
      401,
      (await post('/api/v1/auth/validate', { token: 'a.b.c' })).status,
    );
    const token = (await login(stack)).access_token;
    const r = await post('/api/v1/auth/validate', { token, roles: ['not-held'] });
    expectDocumented('post', '/api/v1/auth/validate', 403, r.status);
  });

  it('POST /auth/oidc/login: an ID token of no configured provider → 401', async () => {
    const r = await post('/api/v1/auth/oidc/login', { idToken: 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' });
    expectDocumented('post', '/api/v1/auth/oidc/login', 401, r.status);
  });

  it('POST /clients/register: no registration token → 401, a taken id → 409', async () => {
    const path = '/api/v1/clients/register';
    expectDocumented('post', path, 401, (await post(path, { clientId: 'self-made' })).status);
    const auth = { authorization: `Bearer ${REGISTRATION_TOKEN}` };
    expect((await post(path, { clientId: 'self-made' }, auth)).status).toBe(201);
    expectDocumented('post', path, 409, (await post(path, { clientId: 'self-made' }, auth)).status);
  });
});

describe('an operation that names a client in its body documents the 404 of an unknown one', () => {
  it('POST /auth/extended-token {clientId} of no client → 404', async () => {
    const r = await admin.post('/api/v1/auth/extended-token', { clientId: 'no-such-client', expiry: 60 });
    expectDocumented('post', '/api/v1/auth/extended-token', 404, r.status);
  });
});

describe('every 401 of the native API carries a challenge (RFC 9110 §15.5.2, README)', () => {
  it.each([
    ['/api/v1/auth/login', { username: 'nobody', password: 'not-the-password' }],
    ['/api/v1/auth/refresh', { refresh_token: `pcl_rt_${'x'.repeat(43)}` }],
    ['/api/v1/auth', { apiKey: `pcl_key_${'A'.repeat(43)}_AAAAAA` }],
    ['/api/v1/auth/validate', { token: 'a.b.c' }],
    ['/api/v1/auth/oidc/login', { idToken: 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' }],
    ['/api/v1/clients/register', { clientId: 'no-token' }],
  ])('POST %s → 401 with WWW-Authenticate: Bearer', async (path, body) => {
    const r = await post(path, body);
    expect({ path, status: r.status, challenge: r.headers.get('www-authenticate') }).toEqual({
      path,
      status: 401,
      challenge: 'Bearer',
    });
  });
});

describe('a create whose name is taken → 409, documented', () => {
  it.each([
    ['/api/v1/clients', '/api/v1/clients', { clientId: 'twice' }],
    ['/api/v1/users', '/api/v1/users', { username: 'twice', password: 'twice-Secret-9x7q' }],
    ['/api/v1/users/me/tokens', '/api/v1/users/me/tokens', { name: 'twice' }],
    ['/api/v1/clients/{clientId}/api-keys', '/api/v1/clients/twice/api-keys', { name: 'twice' }],
  ])('POST %s', async (documented, path, body) => {
    expect((await admin.post(path, body)).status).toBe(201);
    expectDocumented('post', documented, 409, (await admin.post(path, body)).status);
  });

  it('POST /users/{id}/tokens', async () => {
    const id = (await admin.get('/api/v1/users/me')).body.id as string;
    expect((await admin.post(`/api/v1/users/${id}/tokens`, { name: 'by-id' })).status).toBe(201);
    const r = await admin.post(`/api/v1/users/${id}/tokens`, { name: 'by-id' });
    expectDocumented('post', '/api/v1/users/{id}/tokens', 409, r.status);
  });
});

describe('the failed-login throttle (429) is documented where it answers', () => {
  it('POST /auth/login and POST /oauth/token (password grant)', async () => {
    for (let i = 0; i < 3; i++)
      await post('/api/v1/auth/login', { username: stack.adminUsername, password: `wrong-password-${i}` });
    const native = await post('/api/v1/auth/login', { username: stack.adminUsername, password: 'wrong-again' });
    expectDocumented('post', '/api/v1/auth/login', 429, native.status);
    const oauth = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: stack.adminUsername, password: 'wrong' }),
    });
    expectDocumented('post', '/oauth/token', 429, oauth.status);
  });
});
