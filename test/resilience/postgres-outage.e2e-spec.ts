import { ERROR_HEADER, SUBJECTS, ValidateTokenReply } from '@portcullis/contracts';
import { api, OAuthErrorReply, readJson } from '../support/fixtures';
import { Load, sleep } from '../support/load';
import { PrivatePostgres, startPrivatePostgres } from '../support/private-pg';
import { SuiteReport } from '../support/report';
import { login, Stack, within } from '../support/stack';

/**
 * PostgreSQL goes away mid-run (a private cluster: stopped like a crash, then frozen so it hangs
 * instead of refusing). JWT validation keeps answering from memory; everything that needs the
 * database — login, client_credentials, refresh, PAT validation, API-key exchange, admin calls —
 * answers 503 UNAVAILABLE within the request timeout (never "valid", never a hang); readiness of
 * the gateway and of auth-core goes false. When PostgreSQL is back everything recovers without a
 * restart, and every write that was acknowledged is still there.
 */

const TIMEOUT_MS = 3000;
/** What "within the timeout" allows: the gateway's request timeout plus scheduling slack. */
const BOUND_MS = TIMEOUT_MS + 1500;
const report = new SuiteReport(
  'resilience/postgres-outage',
  'PostgreSQL stopped and frozen mid-run',
  'test/resilience/postgres-outage.e2e-spec.ts',
);

let pg: PrivatePostgres;
let stack: Stack;
let admin: ReturnType<typeof api>;
let adminToken: string;
let revokedToken: string;
let refreshToken: string;
/** One PAT per phase, never validated before it: PATs are cached for 30 s once validated. */
const pats: Record<string, string> = {};
let pat = '';
let apiKey: string;
let clientSecret: string;
let corePid: number | undefined;
let validations: Load;
let writes: Load;
const acknowledged = { created: [] as string[], revoked: [] as string[] };

const timed = async <T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t0 = Date.now();
  const value = await f();
  return { value, ms: Date.now() - t0 };
};
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const form = (path: string, body: Record<string, string>) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
const natsValidate = (token: string) =>
  stack.natsRequest<{ valid: boolean; error?: { code: string } }>(SUBJECTS.TOKEN_VALIDATE, { token }, 5000);

/** Every database-backed operation once; each must be 503 UNAVAILABLE (or valid:false UNAVAILABLE) within BOUND_MS. */
async function expectDatabaseOperationsUnavailable(phase: string) {
  pat = pats[phase];
  const checks: Array<[string, () => Promise<string>]> = [
    [
      'REST login',
      async () =>
        String((await post('/api/v1/auth/login', { username: 'admin', password: stack.adminPassword })).status),
    ],
    [
      'NATS login',
      async () => {
        const m = await stack.natsRaw(
          SUBJECTS.LOGIN,
          JSON.stringify({ username: 'admin', password: stack.adminPassword }),
          8000,
        );
        return m.headers?.get(ERROR_HEADER) ?? 'ok';
      },
    ],
    [
      'OAuth client_credentials',
      async () => {
        const r = await form('/oauth/token', {
          grant_type: 'client_credentials',
          client_id: 'svc',
          client_secret: clientSecret,
        });
        // Partial: should a token come back instead, the check reports `200 undefined`.
        return `${r.status} ${(await readJson<Partial<OAuthErrorReply>>(r)).error}`;
      },
    ],
    ['REST refresh', async () => String((await post('/api/v1/auth/refresh', { refresh_token: refreshToken })).status)],
    [
      'PAT via REST GET /auth/validate',
      async () =>
        String(
          (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${pat}` } })).status,
        ),
    ],
    [
      'PAT via NATS token.validate',
      async () => {
        const r = await natsValidate(pat);
        return r.valid ? 'VALID' : (r.error?.code ?? '?');
      },
    ],
    ['API-key exchange', async () => String((await post('/api/v1/auth', { apiKey })).status)],
    ['admin GET /users', async () => String((await admin.get('/api/v1/users')).status)],
    [
      'admin POST /clients',
      async () => String((await admin.post('/api/v1/clients', { clientId: `during-${phase}` })).status),
    ],
    [
      'admin DELETE /tokens/{tid}',
      async () => String((await admin.del(`/api/v1/tokens/00000000-0000-4000-8000-000000000001`)).status),
    ],
  ];
  const expected: Record<string, string> = {
    'NATS login': 'UNAVAILABLE',
    'OAuth client_credentials': '503 temporarily_unavailable',
    'PAT via NATS token.validate': 'UNAVAILABLE',
  };
  // All at once, as real traffic would arrive: none may wait for another to time out.
  const results = await Promise.all(checks.map(async ([name, run]) => ({ name, ...(await timed(run)) })));
  for (const { name, value, ms } of results) {
    report.case(`${phase}: ${name} → 503 UNAVAILABLE within ${BOUND_MS} ms`);
    report.requests(`${phase}: database-backed operation`);
    report.figure(`${phase}: ${name} (ms)`, ms);
    if (value !== (expected[name] ?? '503') || ms > BOUND_MS)
      report.error(`${phase}: ${name} answered ${value} in ${ms} ms`);
  }
  expect(results.map(({ name, value, ms }) => ({ name, value, inTime: ms <= BOUND_MS }))).toEqual(
    results.map(({ name }) => ({ name, value: expected[name] ?? '503', inTime: true })),
  );
}

async function expectValidationFromMemory(phase: string) {
  report.case(`${phase}: JWT validation from memory (REST and NATS), revoked token still refused`);
  const rest = await timed(() =>
    fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${adminToken}` } }),
  );
  expect(rest.value.status).toBe(200);
  expect(rest.ms).toBeLessThan(1000);
  expect((await natsValidate(adminToken)).valid).toBe(true);
  expect(await natsValidate(revokedToken)).toMatchObject({ valid: false, error: { code: 'UNAUTHENTICATED' } });
  expect(
    (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${revokedToken}` } })).status,
  ).toBe(401);
  report.requests(`${phase}: validation`, 4);
}

async function expectUnready(phase: string) {
  report.case(`${phase}: auth-core readiness false; the gateway stays ready and reports the database down`);
  await within(BOUND_MS + 2000, async () => {
    const res = await fetch(`${stack.url}/health/ready`);
    const body = (await res.json()) as { details?: { database?: { state?: string } } };
    return res.status === 200 && body.details?.database?.state === 'down';
  });
  await within(
    BOUND_MS,
    async () => (await fetch(`http://127.0.0.1:${stack.replicaPorts[0]}/health/ready`)).status === 503,
  );
  // Liveness stays true: the process is fine, it must not be restarted for this.
  expect((await fetch(`http://127.0.0.1:${stack.replicaPorts[0]}/health/live`)).status).toBe(200);
}

async function expectRecovered(phase: string) {
  report.case(`${phase}: everything recovers without a restart`);
  const started = Date.now();
  await within(20000, async () => (await fetch(`${stack.url}/health/ready`)).status === 200);
  await within(
    5000,
    async () => (await fetch(`http://127.0.0.1:${stack.replicaPorts[0]}/health/ready`)).status === 200,
  );
  await within(
    10000,
    async () => (await post('/api/v1/auth/login', { username: 'admin', password: stack.adminPassword })).status === 200,
  );
  report.figure(`${phase}: seconds until ready and logging in again`, ((Date.now() - started) / 1000).toFixed(1));
  const cc = await form('/oauth/token', {
    grant_type: 'client_credentials',
    client_id: 'svc',
    client_secret: clientSecret,
  });
  expect(cc.status).toBe(200);
  expect((await natsValidate(pat)).valid).toBe(true);
  expect((await admin.get('/api/v1/users')).status).toBe(200);
  expect(stack.replicas[0].running && stack.replicas[0].child.pid === corePid).toBe(true);
  expect(stack.gateway.running).toBe(true);
}

beforeAll(async () => {
  pg = await startPrivatePostgres();
  stack = new Stack({ pgAdminUrl: pg.adminUrl, gatewayEnv: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
  await stack.start();
  corePid = stack.replicas[0].child.pid;
  const s = await login(stack);
  adminToken = s.access_token;
  admin = api(stack, adminToken);
  const doomed = await login(stack);
  refreshToken = (await login(stack)).refresh_token;
  expect((await api(stack, doomed.access_token).post('/api/v1/auth/logout')).status).toBe(204);
  revokedToken = doomed.access_token;
  clientSecret = (await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] })).body.client_secret;
  // Created now, never used: only the database can say whether they are good.
  for (const phase of ['stopped', 'frozen'])
    pats[phase] = (
      await admin.post('/api/v1/users/me/tokens', {
        name: `outage-${phase}`,
        expiresAt: new Date(Date.now() + 86400_000).toISOString(),
        permissions: [],
        tenants: [],
      })
    ).body.token;
  apiKey = (await admin.post('/api/v1/clients/svc/api-keys', { name: 'outage' })).body.apiKey;

  // Steady background traffic for the whole run: validations (must never fail) and writes
  // (each acknowledged one is remembered and must survive).
  validations = new Load(async (i) => {
    const r =
      i % 2
        ? await natsValidate(adminToken)
        : await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${adminToken}` } }).then(
            async (x) => ({ valid: x.status === 200 && (await readJson<ValidateTokenReply>(x)).valid }),
          );
    return r.valid ? 'ok' : 'invalid';
  }, 2);
  writes = new Load(async (i) => {
    if (i === 0 || acknowledged.created.length <= acknowledged.revoked.length) {
      const r = await admin.post('/api/v1/tokens', { token_life: 600 });
      if (r.status === 201) acknowledged.created.push(r.body.tid);
      return r.status === 201 ? 'ok' : `HTTP ${r.status}`;
    }
    const tid = acknowledged.created[acknowledged.revoked.length];
    const r = await admin.del(`/api/v1/tokens/${tid}`);
    if (r.status === 204) acknowledged.revoked.push(tid);
    return r.status === 204 ? 'ok' : `HTTP ${r.status}`;
  }, 2);
  await sleep(1000);
}, 120000);

afterAll(async () => {
  await Promise.all([validations?.stop(), writes?.stop()]);
  try {
    pg?.thaw();
  } catch {
    /* not frozen */
  }
  await pg?.start().catch(() => undefined);
  await stack?.stop();
  await pg?.destroy();
  report.write();
}, 90000);

describe('PostgreSQL stopped (like a crash) mid-run', () => {
  it('validation keeps answering, database-backed operations answer 503 UNAVAILABLE in time, readiness goes false', async () => {
    report.fault('PostgreSQL stopped with pg_ctl -m immediate (crash: recovery from WAL on restart)');
    await pg.stop('immediate');
    await expectValidationFromMemory('stopped');
    await expectDatabaseOperationsUnavailable('stopped');
    await expectUnready('stopped');
  }, 90000);

  it('after PostgreSQL is back: everything recovers without restarting anything', async () => {
    await pg.start();
    await expectRecovered('after stop');
  }, 60000);
});

describe('PostgreSQL frozen (hangs instead of refusing) mid-run', () => {
  it('validation keeps answering, database-backed operations answer 503 within the timeout, never hang', async () => {
    report.fault('PostgreSQL frozen with SIGSTOP (connections hang, nothing refused)');
    pg.freeze();
    await expectValidationFromMemory('frozen');
    await expectDatabaseOperationsUnavailable('frozen');
    await expectUnready('frozen');
  }, 120000);

  it('after PostgreSQL resumes: everything recovers without restarting anything', async () => {
    pg.thaw();
    await expectRecovered('after freeze');
  }, 60000);
});

describe('aftermath', () => {
  it('background validations never failed; writes failed only with 503 and never hung', async () => {
    const [v, w] = await Promise.all([validations.stop(), writes.stop()]);
    report.requests('background validations (REST and NATS)', v.length);
    report.requests('background writes (create / revoke token)', w.length);
    const vFail = validations.failures();
    const wFail = writes.failures();
    for (const f of vFail) report.error(`background validation: ${f.result}`);
    const notUnavailable = wFail.filter((f) => f.result !== 'HTTP 503');
    for (const f of notUnavailable) report.error(`background write: ${f.result}`);
    report.figure('background validations / failed', `${v.length} / ${vFail.length}`);
    report.figure('background writes / answered 503 during the outages', `${w.length} / ${wFail.length}`);
    report.figure('slowest background write (ms)', Math.max(...w.map((o) => o.ended - o.started)));
    expect(vFail).toEqual([]);
    expect(notUnavailable).toEqual([]);
    expect(wFail.length).toBeGreaterThan(0); // the outages really happened under the writes
    expect(Math.max(...w.map((o) => o.ended - o.started))).toBeLessThanOrEqual(BOUND_MS);
  });

  it('no acknowledged write was lost: every created token is recorded, every acknowledged revocation holds', async () => {
    report.case('acknowledged writes survive the outages');
    report.figure(
      'acknowledged token creations / revocations',
      `${acknowledged.created.length} / ${acknowledged.revoked.length}`,
    );
    const rows = await stack.query<{ tid: string; revoked: boolean }>(
      'SELECT tid, revoked FROM access_tokens WHERE tid = ANY($1::uuid[])',
      [acknowledged.created],
    );
    const byTid = new Map(rows.map((r) => [r.tid, r.revoked]));
    const missing = acknowledged.created.filter((t) => !byTid.has(t));
    const unrevoked = acknowledged.revoked.filter((t) => byTid.get(t) !== true);
    for (const t of missing) report.error(`acknowledged token lost: ${t}`);
    for (const t of unrevoked) report.error(`acknowledged revocation lost: ${t}`);
    expect({ missing, unrevoked }).toEqual({ missing: [], unrevoked: [] });
    expect(acknowledged.revoked.length).toBeGreaterThan(5);
    // …and auth-core still refuses every acknowledged revocation.
    const tokens = await stack.query<{ tid: string }>(
      'SELECT tid FROM access_tokens WHERE tid = ANY($1::uuid[]) AND revoked',
      [acknowledged.revoked],
    );
    expect(tokens.length).toBe(acknowledged.revoked.length);
  });

  it('no 5xx other than 503, no crash', () => {
    expect(stack.replicas.every((r) => r.running) && stack.gateway.running).toBe(true);
    const fatal = stack
      .logs()
      .split('\n')
      .filter((l) => /"level":60/.test(l));
    expect(fatal).toEqual([]);
  });
});
