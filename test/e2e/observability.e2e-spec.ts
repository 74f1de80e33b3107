import { headers } from '@nats-io/transport-node';
import { REQUEST_ID_HEADER, SUBJECTS } from '@portcullis/contracts';
import { expositionProblems } from '../support/prometheus';
import { AUTH_CORE_MAIN, freePort, GATEWAY_MAIN, login, NATS_URL, spawnApp, Stack, within } from '../support/stack';

/** What an operator sees: metrics on both apps, and one request id from the gateway into auth-core's logs. */
describe('observability', () => {
  const stack = new Stack({ replicas: 2, env: { LOG_LEVEL: 'debug' }, gatewayEnv: { LOG_LEVEL: 'debug' } });
  const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();
  const coreUrl = (i: number) => `http://127.0.0.1:${stack.replicaPorts[i]}`;

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  /** JSON log lines of a process. */
  const logLines = (logs: string) =>
    logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('carries the caller’s X-Request-Id from the gateway into auth-core’s log lines', async () => {
    const { access_token } = await login(stack);
    const requestId = `obs-${Date.now()}`;
    const res = await fetch(`${stack.url}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${access_token}`, 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);

    // The request went to one of the replicas: its log has the id, with the subject it answered.
    await within(2000, async () =>
      stack.replicas.some((r) => logLines(r.logs()).some((l) => l.requestId === requestId)),
    );
    const lines = stack.replicas.flatMap((r) => logLines(r.logs())).filter((l) => l.requestId === requestId);
    expect(lines.map((l) => l.subject)).toContain(`${stack.prefix}auth.v1.auth.me`);

    // At debug the gateway logs the request itself: id, route pattern, status and time.
    await within(2000, async () => logLines(stack.gateway.logs()).some((l) => l.requestId === requestId));
    expect(logLines(stack.gateway.logs()).find((l) => l.requestId === requestId)).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/api/v1/auth/me',
      status: 200,
      ms: expect.any(Number),
    });

    // An id that is not a plain token is replaced, never echoed into logs and headers.
    const forged = await fetch(`${stack.url}/health/live`, { headers: { 'x-request-id': 'bad id;{"x":1}' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a request id from any NATS caller out of auth-core’s logs unless it is a short plain token', async () => {
    // auth-core answers every cluster service, not only the gateway: the header is as untrusted there.
    const nc = await stack.nats();
    const ask = (requestId: string) => {
      const h = headers();
      h.set(REQUEST_ID_HEADER, requestId);
      return nc.request(`${stack.prefix}${SUBJECTS.STATUS}`, '{}', { headers: h, timeout: 3000 });
    };
    const huge = `huge-${'x'.repeat(100_000)}`;
    const odd = `odd id {"level":60,"msg":"forged"}`;
    const plain = `plain-${Date.now()}`;
    await ask(huge);
    await ask(odd);
    await ask(plain);
    // Each request logs a debug line in its context; the plain id is there, the others are not.
    await within(2000, async () => stack.replicas.some((r) => logLines(r.logs()).some((l) => l.requestId === plain)));
    const logs = stack.replicas.map((r) => r.logs()).join('');
    // Booleans, not toContain: a failure would otherwise print every log line, the huge one too.
    expect(logs.includes('huge-xxxxxxxx')).toBe(false);
    expect(logs.includes('forged')).toBe(false);
  });

  it('logs every change an administrator makes, with its request id, but not each token issued', async () => {
    const { access_token } = await login(stack);
    const requestId = `obs-admin-${Date.now()}`;
    const created = await fetch(`${stack.url}/api/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'x-request-id': requestId,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ username: 'logged-user', password: 'logged-user-password-1', roles: ['user'] }),
    });
    expect(created.status).toBe(201);
    await within(2000, async () =>
      stack.replicas.some((r) =>
        logLines(r.logs()).some((l) => l.requestId === requestId && /^user\.created /.test(String(l.msg))),
      ),
    );
    const line = stack.replicas
      .flatMap((r) => logLines(r.logs()))
      .find((l) => l.requestId === requestId && /^user\.created /.test(String(l.msg)));
    expect(line?.msg).toMatch(/^user\.created actor=\S+ subject=\S+$/);
    expect(stack.logs()).not.toContain('logged-user-password-1');
    expect(stack.replicas.some((r) => logLines(r.logs()).some((l) => /^token\.issued /.test(String(l.msg))))).toBe(
      false,
    );
  });

  it('exports request counts and latency per route and per NATS subject, and the domain metrics', async () => {
    const { access_token } = await login(stack);
    await fetch(`${stack.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${access_token}` } });
    const gateway = await metrics(stack.url);
    expect(gateway).toMatch(
      /portcullis_gateway_http_requests_total\{method="POST",route="\/api\/v1\/auth\/login",status="200"\} \d+/,
    );
    expect(gateway).toMatch(
      /portcullis_gateway_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/tokens",status="200"\}/,
    );

    const core = (await metrics(coreUrl(0))) + (await metrics(coreUrl(1)));
    const login_ = `${stack.prefix}auth.v1.login`.replace(/\./g, '\\.');
    expect(core).toMatch(
      new RegExp(`portcullis_auth_core_nats_requests_total\\{subject="${login_}",outcome="ok"\\} \\d+`),
    );
    expect(core).toMatch(
      new RegExp(`portcullis_auth_core_nats_request_duration_seconds_count\\{subject="${login_}",outcome="ok"\\}`),
    );
    expect(core).toMatch(/portcullis_auth_core_tokens_issued_total\{typ="user"\} \d+/);
    expect(core).toMatch(/portcullis_auth_core_validations_total\{outcome="valid"\} \d+/);
    expect(core).toMatch(
      /portcullis_auth_core_http_requests_total\{method="GET",route="\/health\/ready",status="200"\}/,
    );
  });

  it('counts and access-logs the requests the router refuses (malformed URL, over-long path parameter)', async () => {
    const requestId = `obs-refused-${Date.now()}`;
    const count = async () =>
      Number(
        /portcullis_gateway_http_requests_total\{method="GET",route="unmatched",status="400"\} (\d+)/.exec(
          await metrics(stack.url),
        )?.[1] ?? 0,
      );
    const before = await count();
    const bad = await fetch(`${stack.url}/api/v1/tokens/%zz`, { headers: { 'x-request-id': requestId } });
    expect(bad.status).toBe(400);
    const long = await fetch(`${stack.url}/api/v1/tokens/${'a'.repeat(400)}`);
    expect(long.status).toBe(400);
    // A scanner probing with broken URLs shows in the metrics and the access log like any other caller.
    await within(2000, async () => (await count()) === before + 2);
    await within(2000, async () => logLines(stack.gateway.logs()).some((l) => l.requestId === requestId));
    expect(logLines(stack.gateway.logs()).find((l) => l.requestId === requestId)).toMatchObject({
      msg: 'request',
      route: 'unmatched',
      status: 400,
    });
  });

  it('counts audited events by type and outcome, logins ok and failed among them', async () => {
    const sum = async (series: string) => (await stack.metric(0, series)) + (await stack.metric(1, series));
    const ok = 'portcullis_auth_core_audit_events_total{type="login.succeeded",outcome="ok"}';
    const failed = 'portcullis_auth_core_audit_events_total{type="login.failed",outcome="failed"}';
    const before = { ok: await sum(ok), failed: await sum(failed) };
    await login(stack);
    const wrong = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: stack.adminUsername, password: 'not-the-password-1' }),
    });
    expect(wrong.status).toBe(401);
    await within(2000, async () => (await sum(ok)) > before.ok && (await sum(failed)) > before.failed);
    const text = await metrics(coreUrl(0));
    expect(text).toMatch(/# TYPE portcullis_auth_core_audit_events_total counter/);
  });

  it('serves well-formed Prometheus text on both apps, with bounded labels only', async () => {
    // The check finds what is wrong (control): a series twice, a sample of no family, a broken line.
    expect(expositionProblems('# TYPE a counter\na{x="1"} 1\na{x="1"} 2\nb 1\na{x="1 1')).toHaveLength(3);
    // Some traffic first, errors included, so every family has series.
    await login(stack);
    await fetch(`${stack.url}/api/v1/nope/${'x'.repeat(40)}`);
    for (const url of [stack.url, coreUrl(0), coreUrl(1)]) {
      const res = await fetch(`${url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect({ url, problems: expositionProblems(text) }).toEqual({ url, problems: [] });
      // No raw path, token or id in a label: routes are patterns, subjects are the subscribed ones.
      expect(text.includes('xxxxxxxxxx')).toBe(false);
      expect(text).not.toMatch(/route="\/api\/v1\/nope/);
    }
  });

  it('measures revocation lag on every replica', async () => {
    const { access_token, refresh_token } = await login(stack);
    const count = async (i: number) => {
      const m = /portcullis_auth_core_revocation_lag_seconds_count\{kind="token"\} (\d+)/.exec(
        await metrics(coreUrl(i)),
      );
      return Number(m?.[1] ?? 0);
    };
    const before = [await count(0), await count(1)];
    const res = await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token }),
    });
    expect(res.status).toBeLessThan(300);
    await within(2000, async () => (await count(0)) > before[0] && (await count(1)) > before[1]);
    // Applied within the SPEC's one second on both replicas.
    for (const i of [0, 1]) {
      const text = await metrics(coreUrl(i));
      const le1 = /portcullis_auth_core_revocation_lag_seconds_bucket\{le="1",kind="token"\} (\d+)/.exec(text);
      expect(Number(le1?.[1])).toBeGreaterThan(0);
    }
  });

  it('a failed start is a JSON log line too (fatal, with the cause), not only a bare stack on stderr', async () => {
    const fatalLine = (out: string) =>
      logLines(out).find((l) => l.level === 60 && /failed to start/.test(String(l.msg)));
    // auth-core: a database that refuses connections (the migrations at start fail at once).
    const core = spawnApp('auth-core (no database)', AUTH_CORE_MAIN, {
      ...stack.coreEnv(await freePort()),
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`,
    });
    // The gateway: its port is already taken (by the stack's own gateway).
    const gateway = spawnApp('gateway (port taken)', GATEWAY_MAIN, {
      PORT: String(stack.gatewayPort),
      NATS_URL,
      NATS_SUBJECT_PREFIX: stack.prefix,
    });
    expect([await core.waitForExit(), await gateway.waitForExit()]).toEqual([1, 1]);
    expect(fatalLine(core.logs())).toMatchObject({
      app: 'auth-core',
      err: { message: expect.stringMatching(/ECONNREFUSED/) },
    });
    expect(fatalLine(gateway.logs())).toMatchObject({
      app: 'gateway',
      err: { message: expect.stringMatching(/EADDRINUSE/) },
    });
  }, 30000);

  it('logs no secret: no password, token or refresh token in any line', async () => {
    const { access_token, refresh_token } = await login(stack);
    await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${access_token}` } });
    const logs = stack.logs();
    expect(logs).not.toContain(stack.adminPassword);
    expect(logs).not.toContain(access_token);
    expect(logs).not.toContain(refresh_token);
    expect(logs).not.toContain(stack.masterKey);
  });
});
