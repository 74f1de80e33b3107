import { connect as tcpConnect } from 'node:net';
import { SUBJECTS } from '@portcullis/contracts';
import { Load, logTime, sleep } from '../support/load';
import { freePort, GATEWAY_MAIN, login, NATS_URL, spawnApp, Stack, waitForReady } from '../support/stack';

/**
 * SIGTERM under load, as Kubernetes sends it on every rollout: readiness goes false first, work
 * already accepted is finished, the process exits 0. Logins are the load because argon2 makes them
 * slow enough that some are always in flight when the signal arrives.
 */
describe('graceful shutdown', () => {
  const stack = new Stack({ replicas: 2 });
  let token: string;
  let machine: { client_id: string; client_secret: string };

  beforeAll(async () => {
    await stack.start();
    token = (await login(stack)).access_token;
    const res = await fetch(`${stack.url}/api/v1/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ clientId: 'drain-svc', roles: ['service'] }),
    });
    const created = (await res.json()) as { clientId: string; client_secret: string };
    machine = { client_id: created.clientId, client_secret: created.client_secret };
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  const loginOk = async (base: string) => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword }),
    });
    await res.arrayBuffer();
    return res.status === 200 ? 'ok' : `HTTP ${res.status}`;
  };

  it('an auth-core replica finishes the NATS requests it accepted, drains, and exits 0', async () => {
    const victim = stack.replicas[0];
    const viaGateway = new Load(() => loginOk(stack.url), 6);
    const viaNats = new Load(async () => {
      const r = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token }, 3000);
      return r.valid ? 'ok' : 'invalid';
    }, 8);
    // client_credentials has a subscription of its own (DirectResponder): it must drain as well.
    const viaGrant = new Load(async () => {
      const r = await stack.natsRequest<{ access_token?: string }>(SUBJECTS.OAUTH_CLIENT_CREDENTIALS, machine, 3000);
      return r.access_token ? 'ok' : JSON.stringify(r);
    }, 8);
    await sleep(1500);
    // The queue group spreads the load: the victim is really answering when it is stopped.
    expect(await stack.metric(0, 'portcullis_auth_core_nats_requests_total')).toBeGreaterThan(0);

    // A burst of slow requests just before the signal, so the victim surely holds accepted work
    // when it starts draining; every one of them must be answered.
    const burst = Array.from({ length: 30 }, () =>
      stack
        .natsRequest<{ access_token?: string }>(
          SUBJECTS.LOGIN,
          { username: stack.adminUsername, password: stack.adminPassword },
          15000,
        )
        .then(
          (r) => (r.access_token ? 'ok' : JSON.stringify(r)),
          (err: Error) => err.message,
        ),
    );
    await sleep(30);
    const signalledAt = Date.now();
    const code = await victim.stop('SIGTERM', 20000);
    const exitedAt = Date.now();
    const burstResults = await Promise.all(burst);
    await sleep(500);
    await Promise.all([viaGateway.stop(), viaNats.stop(), viaGrant.stop()]);

    const logs = victim.logs();
    expect(code).toBe(0);
    expect(exitedAt - signalledAt).toBeLessThan(15000);
    expect(logs).toContain('shutdown complete');
    // It had accepted work when it started draining, and none of it was lost: the other replica
    // took the new requests, the victim answered its own before closing.
    const inFlight = /draining NATS subscriptions: (\d+) request/.exec(logs);
    expect(inFlight).not.toBeNull();
    expect(Number(inFlight?.[1])).toBeGreaterThan(0);
    expect(burstResults.filter((r) => r !== 'ok')).toEqual([]);
    expect(viaGateway.failures()).toEqual([]);
    expect(viaNats.failures()).toEqual([]);
    expect(viaGrant.failures()).toEqual([]);
    expect(logs).toMatch(/draining \S*auth\.v1\.oauth\.client-credentials: \d+ request/);
    expect(viaGateway.outcomes.filter((o) => o.started > exitedAt).length).toBeGreaterThan(0);
  }, 60000);

  it('the gateway turns unready first, finishes accepted HTTP requests, and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const delayMs = 2000;
    const gateway = spawnApp('gateway#2', GATEWAY_MAIN, {
      PORT: String(port),
      NATS_URL,
      NATS_SUBJECT_PREFIX: stack.prefix,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '5000',
      SHUTDOWN_DELAY_MS: String(delayMs),
    });
    try {
      await waitForReady(`${base}/health/ready`, gateway);
      const load = new Load(() => loginOk(base), 8);
      const readiness: Array<{ at: number; status: number }> = [];
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const at = Date.now();
          const status = await fetch(`${base}/health/ready`).then(
            (r) => r.status,
            () => 0,
          );
          readiness.push({ at, status });
          await sleep(50);
        }
      })();
      await sleep(1000);

      const signalledAt = Date.now();
      const code = await gateway.stop('SIGTERM', 20000);
      await Promise.all([load.stop(), ((probing = false), probe)]);
      expect(code).toBe(0);
      expect(gateway.logs()).toContain('shutdown complete');

      const closingAt = logTime(gateway.logs(), 'closing:');
      expect(closingAt).toBeDefined();
      const closeAt = closingAt as number;
      expect(closeAt - signalledAt).toBeGreaterThanOrEqual(delayMs - 100);

      // Readiness failed within moments of the signal, while requests were still being served.
      const firstUnready = readiness.find((r) => r.at >= signalledAt && r.status !== 200);
      expect(firstUnready?.status).toBe(503);
      // Generous bound: CI machines are small and busy; what matters is "well before closing".
      expect((firstUnready?.at as number) - signalledAt).toBeLessThan(delayMs / 2);
      const servedWhileUnready = load.outcomes.filter((o) => o.started > (firstUnready?.at as number) + 50);
      expect(servedWhileUnready.filter((o) => o.result === 'ok' && o.ended < closeAt).length).toBeGreaterThan(0);

      // Nothing sent before the server began closing failed (25 ms allows for clock reading).
      expect(load.failures((o) => o.started < closeAt - 25)).toEqual([]);
      // Requests were in flight when it began closing, and they completed.
      const straddling = load.outcomes.filter((o) => o.started < closeAt - 25 && o.ended > closeAt);
      expect(straddling.length).toBeGreaterThan(0);
      expect(straddling.every((o) => o.result === 'ok')).toBe(true);
      // After closing began, a request is refused or told 503: never a hang or a 500.
      for (const o of load.failures())
        expect(o.result).toMatch(/HTTP 503|TypeError|ECONNREFUSED|ECONNRESET|fetch failed/);
    } finally {
      await gateway.stop('SIGKILL');
    }
  }, 60000);

  it('a keep-alive connection busy when closing begins is answered, then closed: the gateway exits at once, not after its keep-alive timeout', async () => {
    const port = await freePort();
    const gateway = spawnApp('gateway#3', GATEWAY_MAIN, {
      PORT: String(port),
      NATS_URL,
      NATS_SUBJECT_PREFIX: stack.prefix,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '5000',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      await waitForReady(`http://127.0.0.1:${port}/health/ready`, gateway);
      // A keep-alive connection with a login in flight (argon2 keeps it busy for a while) when the
      // signal arrives.
      const body = JSON.stringify({ username: stack.adminUsername, password: stack.adminPassword });
      const socket = tcpConnect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      let raw = '';
      socket.setEncoding('latin1').on('data', (d: string) => (raw += d));
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(
        `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await sleep(3);
      const signalledAt = Date.now();
      const stopped = gateway.stop('SIGTERM', 20000);
      await ended;
      const code = await stopped;
      const answers = raw.split(/(?=HTTP\/1\.1 )/).map((a) => ({
        status: Number(a.slice(9, 12)),
        body: a.slice(a.indexOf('\r\n\r\n') + 4),
      }));
      expect(code).toBe(0);
      // Not held open by the keep-alive connection (72 s) until SHUTDOWN_TIMEOUT_MS ends it with exit 1.
      expect(Date.now() - signalledAt).toBeLessThan(5000);
      expect(logTime(gateway.logs(), 'closing:')).toBeDefined();
      expect(answers.map((a) => a.status)).toEqual([200]);
      expect(answers[0].body).toContain('access_token');
    } finally {
      await gateway.stop('SIGKILL');
    }
  }, 60000);
});
