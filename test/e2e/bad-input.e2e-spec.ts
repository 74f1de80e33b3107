import { request as httpRequest } from 'node:http';
import { ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { login, Stack } from '../support/stack';
import { ReplyBody as Body } from '../support/fixtures';

/**
 * Bad input on the login and validate surfaces (REST and NATS): 400 naming the fields, 413 for
 * oversized bodies, valid:false BAD_REQUEST on NATS — and not one row written by any of it.
 */

let stack: Stack;
let token: string;
type Counts = Record<'users' | 'access_tokens' | 'refresh_tokens' | 'audit_events', number>;
let before: Counts;

async function counts(): Promise<Counts> {
  const [row] = await stack.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM access_tokens) AS access_tokens,
            (SELECT count(*) FROM refresh_tokens) AS refresh_tokens, (SELECT count(*) FROM audit_events) AS audit_events`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as Counts;
}

async function post(path: string, body: string | undefined, contentType: string | null = 'application/json') {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: contentType ? { 'content-type': contentType } : {},
    body,
  });
  const text = await res.text();
  let json: Body | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* asserted by the caller */
  }
  return { status: res.status, json, text };
}

/**
 * A POST whose body the server refuses before reading it all. Its headers go first, alone: the
 * gateway judges the Content-Length and answers 413 before any of the body. Writing the body as
 * well would race that answer — the server closes the connection after it, and bytes still
 * arriving make the kernel reset it, which can drop the unread answer (fetch then fails with
 * EPIPE or ECONNRESET). The body is written only if no answer came within 2 s, so a server that
 * reads bodies before judging them is still tested.
 */
function postOversized(path: string, body: string): Promise<{ status: number; json: Body | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    let answered = false;
    const sendBody = setTimeout(() => req.end(body), 2000);
    req.on('response', (res) => {
      answered = true;
      clearTimeout(sendBody);
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: Body | null = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* asserted by the caller */
        }
        resolve({ status: res.statusCode ?? 0, json });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      clearTimeout(sendBody);
      if (!answered) reject(err);
    });
    req.flushHeaders();
  });
}

const fieldsOf = (body: Body | null): string[] =>
  ((body?.error?.data?.fields ?? []) as Array<{ field: string; errors: string[] }>).map((f) => f.field).sort();

/** The SPEC §4 envelope for a 400 naming exactly `fields`. */
function expectBadRequest(label: string, r: { status: number; json: Body | null; text: string }, fields?: string[]) {
  expect({
    label,
    status: r.status,
    envelope: r.json?.status,
    key: r.json?.error?.errorKey,
    statusCode: r.json?.statusCode,
  }).toEqual({
    label,
    status: 400,
    envelope: 'BAD_REQUEST',
    key: 'BAD_REQUEST',
    statusCode: 400,
  });
  expect(typeof r.json?.message).toBe('string');
  if (fields) {
    expect({ label, fields: fieldsOf(r.json) }).toEqual({ label, fields: [...fields].sort() });
    for (const f of r.json?.error?.data?.fields ?? []) expect(f.errors.length).toBeGreaterThan(0);
  }
  expect(r.text).not.toContain(stack.adminPassword);
}

beforeAll(async () => {
  stack = await new Stack().start();
  token = (await login(stack)).access_token;
  before = await counts();
}, 60000);

afterAll(async () => {
  await stack?.stop();
}, 60000);

describe('login with bad input', () => {
  const L = '/api/v1/auth/login';

  it.each([
    ['empty object', {}, ['username', 'password']],
    ['missing password', { username: 'admin' }, ['password']],
    ['missing username', { password: 'whatever-password' }, ['username']],
    ['wrong types', { username: 123, password: {} }, ['username', 'password']],
    ['null values', { username: null, password: null }, ['username', 'password']],
    ['array username', { username: ['admin'], password: 'x' }, ['username']],
    ['empty strings', { username: '', password: '' }, ['username', 'password']],
    ['username over 128 chars', { username: 'a'.repeat(129), password: 'x' }, ['username']],
    ['password over 1024 chars', { username: 'admin', password: 'p'.repeat(1025) }, ['password']],
    ['clientId of the wrong type', { username: 'admin', password: 'x', clientId: 5 }, ['clientId']],
    ['an extra field', { username: 'admin', password: 'x', isAdmin: true }, ['isAdmin']],
    ['extra and wrong fields together', { username: 1, password: 'x', roles: ['admin'] }, ['username', 'roles']],
  ])('%s → 400 naming the fields', async (label, body, fields) => {
    expectBadRequest(label, await post(L, JSON.stringify(body)), fields);
  });

  it('the right password with an extra field is still refused (no token issued)', async () => {
    const r = await post(
      L,
      JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword, roles: ['system'] }),
    );
    expectBadRequest('extra field, right password', r, ['roles']);
    expect(r.json?.access_token).toBeUndefined();
  });

  it('a __proto__ key is refused, not merged', async () => {
    const body = `{"username":"${stack.adminUsername}","password":"${stack.adminPassword}","__proto__":{"roles":["system"]}}`;
    const r = await post(L, body);
    expectBadRequest('__proto__', r);
    expect(r.json?.access_token).toBeUndefined();
  });

  it.each([
    ['truncated JSON', '{"username":"admin",'],
    ['not JSON at all', 'username=admin&password=x'],
    ['a JSON array', JSON.stringify([{ username: 'admin', password: 'x' }])],
    ['a JSON string', JSON.stringify('admin')],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['empty body', ''],
  ])('%s → 400 in the envelope', async (label, body) => {
    expectBadRequest(label, await post(L, body));
  });

  it('no body and no content type → 400 naming username and password', async () => {
    expectBadRequest('no body', await post(L, undefined, null), ['username', 'password']);
  });

  it('a form body is refused on the native API (no cross-site login), naming the content type', async () => {
    const r = await post(
      L,
      new URLSearchParams({ username: stack.adminUsername, password: stack.adminPassword }).toString(),
      'application/x-www-form-urlencoded',
    );
    expectBadRequest('form login', r, ['content-type']);
    expect(r.json?.access_token).toBeUndefined();
  });

  it.each([
    // fetch's default for a string body: the JSON is there, and the answer named username and
    // password as missing. It stays refused (a text/plain POST needs no CORS preflight).
    ['text/plain;charset=UTF-8'],
    // Answered 400 "Unsupported Media Type" with no field named.
    ['application/xml'],
  ])('a JSON body sent as %s is refused naming the content type, not its fields', async (type) => {
    const r = await post(L, JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }), type);
    expectBadRequest(type, r, ['content-type']);
    expect(r.json?.access_token).toBeUndefined();
  });

  it('an unsupported content type is refused in the envelope', async () => {
    const r = await post(L, JSON.stringify({ username: 'admin', password: 'x' }), 'application/xml');
    expect([400, 415]).toContain(r.status);
    expect(r.json?.statusCode).toBe(r.status);
    expect(r.json?.error?.errorKey).toEqual(expect.any(String));
    expect(r.json?.access_token).toBeUndefined();
  });

  it.each([
    ['1 MB of garbage', 'x'.repeat(1 << 20)],
    ['1 MB password in valid JSON', JSON.stringify({ username: 'admin', password: 'p'.repeat(1 << 20) })],
    ['just over the 64 KB limit', JSON.stringify({ username: 'admin', password: 'p'.repeat(65 * 1024) })],
  ])('%s → 413 PAYLOAD_TOO_LARGE in the envelope', async (label, body) => {
    const r = await postOversized(L, body);
    expect({ label, status: r.status, envelope: r.json?.status, key: r.json?.error?.errorKey }).toEqual({
      label,
      status: 413,
      envelope: 'PAYLOAD_TOO_LARGE',
      key: 'PAYLOAD_TOO_LARGE',
    });
  });
});

describe('validate with bad input', () => {
  const V = '/api/v1/auth/validate';

  it.each([
    ['no token', {}, ['token']],
    ['token of the wrong type', { token: 123 }, ['token']],
    ['token over 8 KB', { token: 'a'.repeat(8193) }, ['token']],
    ['roles not an array', { token: 't', roles: 'admin' }, ['roles']],
    ['roles with non-strings', { token: 't', roles: [1, true] }, ['roles']],
    [
      'too many permissions',
      { token: 't', permissions: Array.from({ length: 33 }, (_, i) => `p${i}`) },
      ['permissions'],
    ],
    ['tenant as object', { token: 't', tenant: { $ne: '' } }, ['tenant']],
    ['an extra field', { token: 't', admin: true }, ['admin']],
  ])('POST %s → 400 naming the fields', async (label, body, fields) => {
    expectBadRequest(label, await post(V, JSON.stringify(body)), fields);
  });

  it.each([
    ['non-JSON', '{token:'],
    ['a JSON array', '["a.b.c"]'],
    ['empty body', ''],
  ])('POST %s → 400', async (label, body) => {
    expectBadRequest(label, await post(V, body));
  });

  it('a valid token plus an extra field is refused, not validated', async () => {
    const r = await post(V, JSON.stringify({ token, extra: 1 }));
    expectBadRequest('valid token, extra field', r, ['extra']);
    expect(r.json?.valid).toBeUndefined();
  });

  it.each([
    ['an unknown query parameter', '?foo=bar', ['foo']],
    ['a role over 64 chars', `?roles=${'r'.repeat(65)}`, ['roles']],
    ['33 roles', `?roles=${Array.from({ length: 33 }, (_, i) => `r${i}`).join(',')}`, ['roles']],
  ])('GET with %s → 400 naming the fields', async (label, query, fields) => {
    const res = await fetch(`${stack.url}${V}${query}`, { headers: { authorization: `Bearer ${token}` } });
    expectBadRequest(label, { status: res.status, text: '', json: (await res.json()) as Body }, fields);
  });
});

describe('NATS auth.v1.token.validate with bad input', () => {
  async function raw(label: string, payload: string | Uint8Array, fields?: string[]) {
    const msg = await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, payload);
    expect({ label, header: msg.headers?.get(ERROR_HEADER) ?? '' }).toEqual({ label, header: '' });
    const reply = msg.json<Body>();
    expect({ label, valid: reply.valid, code: reply.error?.code }).toEqual({
      label,
      valid: false,
      code: 'BAD_REQUEST',
    });
    expect(reply.claims).toBeUndefined();
    if (fields)
      expect({ label, fields: (reply.error?.details ?? []).map((d) => d.field).sort() }).toEqual({
        label,
        fields: [...fields].sort(),
      });
  }

  it.each([
    ['non-JSON text', 'this is not json{', ['(body)']],
    ['a bare token string', 'eyJhbGciOiJub25lIn0.e30.', ['(body)']],
    ['an empty token', '{"token":""}', ['token']],
    ['a JSON array', '[{"token":"a"}]', undefined],
    ['a JSON string', '"a.b.c"', undefined],
    ['JSON null', 'null', undefined],
    ['a JSON number', '42', undefined],
    ['an empty payload', '', ['token']],
    ['token of the wrong type', '{"token":42}', ['token']],
    ['roles not an array', '{"token":"t","roles":"admin"}', ['roles']],
    ['an extra field', '{"token":"t","sudo":true}', ['sudo']],
  ])('%s → valid:false BAD_REQUEST', async (label, payload, fields) => {
    await raw(label, payload, fields);
  });

  it('non-UTF-8 binary bytes → valid:false BAD_REQUEST', async () => {
    await raw('binary', new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x81, 0x22]));
  });

  it('a valid token wrapped with an extra field is refused, not validated', async () => {
    await raw('valid token, extra field', JSON.stringify({ token, extra: 1 }), ['extra']);
  });

  it('auth-core keeps answering good requests after the bad ones', async () => {
    expect(await stack.natsRequest(SUBJECTS.TOKEN_VALIDATE, { token })).toMatchObject({ valid: true });
  });
});

describe('NATS auth.v1.login with bad input', () => {
  it.each([
    ['non-JSON', 'nope{'],
    ['wrong types', '{"username":123,"password":{}}'],
    ['extra field', '{"username":"admin","password":"x","admin":true}'],
  ])('%s → an error reply coded BAD_REQUEST', async (_label, payload) => {
    const msg = await stack.natsRaw(SUBJECTS.LOGIN, payload);
    expect(msg.headers?.get(ERROR_HEADER)).toBe('BAD_REQUEST');
    expect(msg.json<Body>()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});

describe('unknown paths and wrong methods', () => {
  const send = async (method: string, path: string) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }),
    });
    return { status: res.status, allow: res.headers.get('allow'), json: (await res.json()) as Body };
  };

  it.each([
    ['PUT', '/api/v1/auth/login', 'POST'],
    ['GET', '/api/v1/auth/login', 'POST'],
    ['PATCH', '/api/v1/tokens/3f1b0a52-8a4c-4f57-9d1c-0d4f7a6c2b11', 'GET, HEAD, DELETE'],
    ['POST', '/.well-known/jwks.json', 'GET, HEAD'],
    ['DELETE', '/api/v1/users/me/password', 'PUT'],
  ])('%s %s → 405 in the envelope, Allow: %s', async (method, path, allow) => {
    const r = await send(method, path);
    expect({ status: r.status, allow: r.allow, envelope: r.json.status, key: r.json.error?.errorKey }).toEqual({
      status: 405,
      allow,
      envelope: 'METHOD_NOT_ALLOWED',
      key: 'METHOD_NOT_ALLOWED',
    });
    expect(r.json.statusCode).toBe(405);
    expect(r.json.message).toContain(allow);
  });

  // An empty path parameter matches no route: it was a 405 telling the caller to use the very
  // method it had used ("DELETE is not allowed here; use DELETE").
  it.each([
    ['GET', '/api/v1/tokens/'],
    ['DELETE', '/api/v1/tokens/'],
    ['PATCH', '/api/v1/users/'],
    ['GET', '/api/v1/users//tokens'],
    ['DELETE', '/api/v1/users/me/tokens/'],
    ['DELETE', '/api/v1/clients//roles'],
    ['PUT', '/api/v1/clients/svc/roles/'],
    ['POST', '/api/v1/clients//enable'],
  ])('%s %s (an empty path parameter) → 404 in the envelope, without Allow', async (method, path) => {
    const r = await send(method, path);
    expect({ path, status: r.status, allow: r.allow, envelope: r.json.status }).toEqual({
      path,
      status: 404,
      allow: null,
      envelope: 'NOT_FOUND',
    });
  });

  it('a path no route has is still 404 in the envelope, without Allow', async () => {
    const r = await send('GET', '/api/v1/no-such-thing');
    expect({ status: r.status, allow: r.allow, envelope: r.json.status }).toEqual({
      status: 404,
      allow: null,
      envelope: 'NOT_FOUND',
    });
  });

  it('under /oauth the answer is an RFC 6749 error: 405 with Allow for a wrong method, 404 for no such endpoint', async () => {
    const wrong = await send('GET', '/oauth/token');
    expect({ status: wrong.status, allow: wrong.allow, error: wrong.json.error }).toEqual({
      status: 405,
      allow: 'POST',
      error: 'invalid_request',
    });
    expect(wrong.json.error_description).toContain('POST');
    const missing = await send('POST', '/oauth/authorize-nothing');
    expect({ status: missing.status, allow: missing.allow, error: missing.json.error }).toEqual({
      status: 404,
      allow: null,
      error: 'invalid_request',
    });
  });
});

describe('nothing was written', () => {
  it('users, access_tokens, refresh_tokens and audit_events are unchanged by every 400 above', async () => {
    expect(await counts()).toEqual(before);
  });

  it('a well-formed wrong-password login is 401 and audited, still without tokens', async () => {
    const r = await post(
      '/api/v1/auth/login',
      JSON.stringify({ username: stack.adminUsername, password: 'Wrong-password-123' }),
    );
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({
      status: 'UNAUTHENTICATED',
      message: 'Invalid username or password',
      error: { errorKey: 'UNAUTHENTICATED' },
    });
    const after = await counts();
    expect(after).toEqual({ ...before, audit_events: before.audit_events + 1 });
    const [last] = await stack.query<{ type: string; success: boolean }>(
      'SELECT type, success FROM audit_events ORDER BY created_at DESC LIMIT 1',
    );
    expect(last).toEqual({ type: 'login.failed', success: false });
  });

  it('a good login still writes tokens (the counters are live)', async () => {
    const mid = await counts();
    await login(stack);
    const after = await counts();
    expect(after.access_tokens).toBe(mid.access_tokens + 1);
    expect(after.refresh_tokens).toBe(mid.refresh_tokens + 1);
  });

  it.each(['constructor', 'toString', 'hasOwnProperty'])(
    'an unknown field named %s is refused like any other (and issues no token)',
    async (key) => {
      const mid = await counts();
      const body = `{"username":"${stack.adminUsername}","password":"${stack.adminPassword}","${key}":{"x":1}}`;
      const r = await post('/api/v1/auth/login', body);
      expectBadRequest(key, r, [key]);
      expect(await counts()).toEqual(mid);
    },
  );
});

describe('routes that take no body', () => {
  const authed = (path: string, body: string) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
  const keyCount = async () =>
    Number((await stack.query<{ n: string }>(`SELECT count(*) AS n FROM signing_keys`))[0].n);

  it('refuse one, naming its fields, and do nothing (no key rotated, no token issued)', async () => {
    const keys = await keyCount();
    for (const [path, body, fields] of [
      ['/api/v1/keys/rotate', { alg: 'HS256' }, ['alg']],
      ['/api/v1/auth/system-token', { foo: 1 }, ['foo']],
    ] as Array<[string, object, string[]]>) {
      const res = await authed(path, JSON.stringify(body));
      const text = await res.text();
      expectBadRequest(path, { status: res.status, json: JSON.parse(text), text }, fields);
    }
    const notAnObject = await authed('/api/v1/keys/rotate', '[1]');
    expect(notAnObject.status).toBe(400);
    expect(await keyCount()).toBe(keys);
  });

  it('an empty object is no body: the route still works', async () => {
    expect((await authed('/api/v1/auth/system-token', '{}')).status).toBe(200);
  });
});
