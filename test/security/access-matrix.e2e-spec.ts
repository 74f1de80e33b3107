import { api } from '../support/fixtures';
import { SuiteReport } from '../support/report';
import { login, Stack } from '../support/stack';

/**
 * Access control, generated from the route table (GET /docs-json), not hand-picked: every
 * operation that declares the bearer scheme is called with no token, with garbage, and with the
 * token of a plain `user`-role user; every operation that declares none must be on the PUBLIC list
 * below with its reason (a new public route fails this suite until someone says why it is public).
 *
 * - no token / a garbage token → 401 in the SPEC §4 envelope, and the operation documents 401;
 * - a plain user on an operation outside SELF_SERVICE → 403 or 404, and the operation documents it;
 * - a plain user on a SELF_SERVICE operation → exactly the status listed there (it works for them);
 * - none of the refused calls changed anything in the database.
 */

const report = new SuiteReport(
  'security/access-matrix',
  'Access-control matrix from the route table',
  'test/security/access-matrix.e2e-spec.ts',
);

/** Operations that need no bearer, and why. */
const PUBLIC: Record<string, string> = {
  'POST /api/v1/auth/login': 'authenticates with username and password in the body',
  'POST /api/v1/auth/refresh': 'authenticates with the refresh token in the body',
  'POST /api/v1/auth/validate': 'the token to judge is the body; validation answers anyone (SPEC §4)',
  'POST /api/v1/auth': 'exchanges the API key in the body',
  'GET /api/v1/auth/oidc/config': 'public sign-in configuration of the external IdPs',
  'POST /api/v1/auth/oidc/login': 'authenticates with the external ID token in the body',
  'POST /api/v1/clients/register': 'authenticates with the registration token in the body',
  'POST /oauth/token': 'OAuth 2 token endpoint: client and grant credentials in the request (RFC 6749)',
  'POST /oauth/introspect': 'client-authenticated with client_secret_basic/post, not a bearer (RFC 7662)',
  'POST /oauth/revoke': 'client-authenticated with client_secret_basic/post, not a bearer (RFC 7009)',
  'GET /.well-known/jwks.json': 'public keys, published by design',
  'GET /.well-known/openid-configuration': 'discovery document, published by design',
  'GET /.well-known/oauth-authorization-server': 'discovery document, published by design',
  'GET /api/v1/status': 'service status for monitoring (SPEC §4), no secrets',
  'GET /health/live': 'liveness probe (SPEC §4 ops)',
  'GET /health/ready': 'readiness probe (SPEC §4 ops)',
  'GET /metrics': 'Prometheus scrape (SPEC §4 ops); no secrets or token values in it',
};

/** Operations a plain `user` (tokens:read, tokens:write, token:validate) may call, and what they answer. */
const SELF_SERVICE: Record<string, { status: number; reason: string }> = {
  'POST /api/v1/auth/logout': { status: 204, reason: 'ends the caller’s own session' },
  'GET /api/v1/auth/me': { status: 200, reason: 'the caller’s own token data' },
  'GET /api/v1/auth/validate': { status: 200, reason: 'validates the caller’s own bearer' },
  'GET /api/v1/tokens': { status: 200, reason: 'lists the caller’s own tokens (tokens:read)' },
  'POST /api/v1/tokens': { status: 201, reason: 'mints a token for the caller (tokens:write)' },
  'DELETE /api/v1/tokens': { status: 200, reason: 'revokes the caller’s own tokens (tokens:write)' },
  'GET /api/v1/users/me': { status: 200, reason: 'the caller’s own user' },
  'PUT /api/v1/users/me/password': {
    status: 403,
    reason: 'changing one’s own password is allowed, but the generated body carries a wrong current password',
  },
  'POST /api/v1/users/me/tokens': { status: 201, reason: 'creates a PAT for the caller within their permissions' },
  'GET /api/v1/users/me/tokens': { status: 200, reason: 'lists the caller’s own PATs' },
  'DELETE /api/v1/users/me/tokens/{tokenOrName}': {
    status: 404,
    reason: 'deletes one of the caller’s own PATs (none by that name)',
  },
};

interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  format?: string;
  oneOf?: Schema[];
}
interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** A minimal body that passes validation: required fields only, values that fit their schema. */
export function minimalBody(doc: Doc, schema: Schema | undefined): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  const s = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema;
  const out: Record<string, unknown> = {};
  for (const name of s.required ?? []) out[name] = valueFor(name, s.properties?.[name] ?? {});
  return out;
}

function valueFor(name: string, s: Schema): unknown {
  if (s.oneOf?.length) return valueFor(name, s.oneOf[0]);
  if (s.type === 'array') return [];
  if (s.type === 'number' || s.type === 'integer') return Math.max(s.minimum ?? 0, 60);
  if (s.type === 'boolean') return false;
  // Date-time fields (`…At`) get a moment a day from now; other strings a plain name.
  if (/At$/.test(name) || s.format === 'date-time') return new Date(Date.now() + 86400_000).toISOString();
  const base = 'matrix1';
  return base.padEnd(Math.max(s.minLength ?? 1, base.length), 'x');
}

const stack = new Stack();
let doc: Doc;
let adminToken: string;
let user: { username: string; password: string; id: string };
const pathValues: Record<string, string> = {};
const operations: Array<{ key: string; method: string; path: string; op: Operation }> = [];

function concretePath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in pathValues)) throw new Error(`no value for path parameter {${name}}: add one to pathValues`);
    return encodeURIComponent(pathValues[name]);
  });
}

async function call(method: string, path: string, op: Operation, token?: string) {
  const body = minimalBody(doc, op.requestBody?.content['application/json']?.schema);
  const res = await fetch(`${stack.url}${concretePath(path)}`, {
    method: method.toUpperCase(),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  report.requests(token ? 'call with a token' : 'call without a token');
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    headers: res.headers,
  };
}

async function fingerprint(): Promise<Record<string, string>> {
  const tables = await stack.query<{ t: string }>(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    if (t === 'audit_events') continue; // refusals may be audited; everything else must stay as it was
    const [row] = await stack.query<{ h: string }>(
      `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${t}" x`,
    );
    out[t] = row.h;
  }
  return out;
}

beforeAll(async () => {
  await stack.start();
  adminToken = (await login(stack)).access_token;
  const admin = api(stack, adminToken);
  doc = (await (await fetch(`${stack.url}/docs-json`)).json()) as Doc;
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      operations.push({ key: `${method.toUpperCase()} ${path}`, method, path, op });

  user = { username: 'plain-user', password: 'plain-user-password-1', id: '' };
  const u = await admin.post('/api/v1/users', {
    username: user.username,
    password: user.password,
    roles: ['user'],
    tenants: ['acme'],
  });
  expect(u.status).toBe(201);
  user.id = u.body.id;
  const other = await admin.post('/api/v1/users', { username: 'other-user', password: 'other-user-password-1' });
  await admin.post('/api/v1/clients', { clientId: 'victim-client', roles: ['service'] });
  const key = await admin.post('/api/v1/clients/victim-client/api-keys', { name: 'k1' });
  const pat = await admin.post(`/api/v1/users/${other.body.id}/tokens`, {
    name: 'other-pat',
    expiresAt: new Date(Date.now() + 86400_000).toISOString(),
    permissions: [],
    tenants: [],
  });
  expect([key.status, pat.status]).toEqual([201, 201]);
  const adminMe = await admin.get('/api/v1/auth/me');
  Object.assign(pathValues, {
    tid: adminMe.body.tid, // the admin's token: invisible to anyone else
    id: other.body.id,
    clientId: 'victim-client',
    role: 'service',
    keyId: key.body.id,
    tokenOrName: 'other-pat',
  });
}, 90000);

afterAll(async () => {
  await stack.stop();
  report.write();
}, 60000);

describe('access-control matrix generated from /docs-json', () => {
  it('the route table is complete enough to test: ≥ 50 operations, path parameters declared', () => {
    expect(operations.length).toBeGreaterThanOrEqual(50);
    report.figure('operations in the route table', operations.length);
    for (const { path, op } of operations) {
      const declared = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect({ path, declared }).toEqual({ path, declared: inPath });
    }
  });

  it('every operation without a bearer scheme is on the PUBLIC list with a reason, and vice versa', () => {
    const unsecured = operations
      .filter((o) => !o.op.security?.some((s) => 'bearer' in s))
      .map((o) => o.key)
      .sort();
    expect(unsecured).toEqual(Object.keys(PUBLIC).sort());
    for (const k of Object.keys(SELF_SERVICE)) expect(operations.map((o) => o.key)).toContain(k);
    report.figure('public operations (excluded with a reason)', unsecured.length);
  });

  it('no token, or a garbage one → 401 in the envelope on every protected operation, as documented', async () => {
    const protectedOps = operations.filter((o) => !(o.key in PUBLIC));
    report.figure('protected operations', protectedOps.length);
    for (const { key, method, path, op } of protectedOps) {
      report.case(`${key}: no token, garbage token`);
      expect({ key, documents401: '401' in op.responses }).toEqual({ key, documents401: true });
      for (const token of [undefined, 'garbage-token']) {
        const r = await call(method, path, op, token);
        const seen = { key, token: token ?? 'none', status: r.status, envelope: r.body?.status };
        if (r.status !== 401) report.error(`${key} without a valid token answered ${r.status}`);
        expect(seen).toEqual({ key, token: token ?? 'none', status: 401, envelope: 'UNAUTHENTICATED' });
        // RFC 6750 §3.1: a refused bearer is invalid_token; no credentials, no error code.
        expect(r.headers.get('www-authenticate')).toBe(token ? 'Bearer error="invalid_token"' : 'Bearer');
      }
    }
  });

  it('a plain user → 403/404 (documented) outside self-service, the listed status inside; nothing changed', async () => {
    const before = await fingerprint();
    const denied: string[] = [];
    for (const { key, method, path, op } of operations.filter((o) => !(o.key in PUBLIC) && !(o.key in SELF_SERVICE))) {
      report.case(`${key}: plain user`);
      const token = (await login(stack, user.username, user.password)).access_token;
      const r = await call(method, path, op, token);
      if (![403, 404].includes(r.status)) report.error(`${key} for a plain user answered ${r.status}`);
      expect({ key, status: [403, 404].includes(r.status) ? 'refused' : r.status, body: r.body?.status }).toEqual({
        key,
        status: 'refused',
        body: r.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND',
      });
      expect({ key, documented: String(r.status) in op.responses }).toEqual({ key, documented: true });
      // RFC 6750 §3.1: a bearer refused for lacking a permission names insufficient_scope.
      if (r.status === 403)
        expect({ key, challenge: r.headers.get('www-authenticate') }).toEqual({
          key,
          challenge: 'Bearer error="insufficient_scope"',
        });
      denied.push(`${key} → ${r.status}`);
    }
    report.figure('operations refused to a plain user', denied.length);
    // Logins write (tokens, sessions); compare only what the refused calls could have touched.
    const after = await fingerprint();
    for (const t of ['access_tokens', 'refresh_tokens']) {
      delete before[t];
      delete after[t];
    }
    expect(after).toEqual(before);
    const [{ n }] = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM access_tokens WHERE revoked AND user_id <> $1`,
      [user.id],
    );
    expect(Number(n)).toBe(0);
    const [other] = await stack.query<{ enabled: boolean; has_pw: boolean }>(
      'SELECT enabled, password_hash IS NOT NULL AS has_pw FROM users WHERE id = $1',
      [pathValues.id],
    );
    expect(other).toEqual({ enabled: true, has_pw: true });
    expect((await api(stack, adminToken).get('/api/v1/auth/me')).status).toBe(200);
  }, 120000);

  it('a plain user gets exactly the listed answer on every self-service operation', async () => {
    for (const [key, { status }] of Object.entries(SELF_SERVICE)) {
      report.case(`${key}: plain user (self-service)`);
      const o = operations.find((x) => x.key === key)!;
      const token = (await login(stack, user.username, user.password)).access_token;
      const r = await call(o.method, o.path, o.op, token);
      if (r.status !== status) report.error(`${key} for a plain user answered ${r.status}, expected ${status}`);
      expect({ key, status: r.status }).toEqual({ key, status });
      // A wrong current password is refused for what the body says, not for the token's scope.
      if (status === 403)
        expect({ key, challenge: r.headers.get('www-authenticate') }).toEqual({ key, challenge: null });
    }
  });
});
