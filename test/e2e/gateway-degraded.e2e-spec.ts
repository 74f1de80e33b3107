import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { jetStreamName, SUBJECTS } from '@portcullis/contracts';
import { createServer, Server, Socket } from 'node:net';
import { parseAllDocuments } from 'yaml';
import { freePort, GATEWAY_MAIN, ManagedProcess, NATS_URL, spawnApp, waitForReady } from '../support/stack';

/**
 * The gateway with its dependencies missing, as an operator and a client see it: live, not ready
 * (saying why), and every request answered 503 promptly, whether auth-core is gone or NATS itself
 * hangs.
 */
describe('a gateway with no auth-core answering', () => {
  let gateway: ManagedProcess;
  let url = '';
  const prefix = `t${randomBytes(5).toString('hex')}.`;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // A subject prefix no auth-core serves: NATS is there, auth-core is not.
    gateway = spawnApp('gateway (alone)', GATEWAY_MAIN, {
      PORT: String(port),
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: 'info',
    });
    await waitForReady(`${url}/health/live`, gateway);
  }, 30000);
  afterAll(async () => {
    await gateway?.stop();
    // The gateway made its failed-login bucket under the prefix: nothing of the test is left behind.
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.endsWith(jetStreamName('', prefix))) await jsm.streams.delete(name);
    await nc.close();
  });

  it('is live, not ready, and its readiness says which check failed', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    // The probe's own report, as auth-core's and as this probe's 200: an operator sees what is down.
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { auth_core: { status: 'down', reason: 'auth-core is not available' } },
      details: { nats: { status: 'up' } },
    });
  });

  it('answers the native API at once with 503 in the envelope, and OAuth with temporarily_unavailable', async () => {
    const t0 = Date.now();
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'some-password-1' }),
    });
    expect(login.status).toBe(503);
    expect(await login.json()).toMatchObject({
      statusCode: 503,
      status: 'UNAVAILABLE',
      error: { errorKey: 'UNAVAILABLE' },
    });
    const token = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a&client_secret=b',
    });
    expect(token.status).toBe(503);
    expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('a gateway whose NATS server accepts connections but never answers', () => {
  let gateway: ManagedProcess;
  let silent: Server;
  const sockets = new Set<Socket>();
  let url = '';
  let spawnedAt = 0;

  beforeAll(async () => {
    // A NATS that hangs (a dead node, a blackholed address) rather than refusing: nats.js then
    // waits for the server's INFO until its connect timeout (20 s).
    silent = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const natsPort = await freePort();
    await new Promise<void>((r) => silent.listen(natsPort, '127.0.0.1', r));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    spawnedAt = Date.now();
    gateway = spawnApp('gateway (silent NATS)', GATEWAY_MAIN, {
      PORT: String(port),
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await gateway?.stop('SIGTERM', 5000);
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('starts listening without waiting out the NATS connect timeout', async () => {
    await waitForReady(`${url}/health/live`, gateway, 25000);
    expect(Date.now() - spawnedAt).toBeLessThan(8000);
  }, 30000);

  it('answers readiness, the native API and OAuth with 503 within REQUEST_TIMEOUT_MS, never hangs', async () => {
    const timed = async (path: string, init?: RequestInit) => {
      const t0 = Date.now();
      const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(25000) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - t0 };
    };
    const ready = await timed('/health/ready');
    expect(ready.status).toBe(503);
    const login = await timed('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'some-password-1' }),
    });
    expect(login).toMatchObject({ status: 503, body: { status: 'UNAVAILABLE' } });
    const token = await timed('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a&client_secret=b',
    });
    expect(token).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
    // REQUEST_TIMEOUT_MS is 1 s (a login may wait it twice: the shared failed-login count, then
    // auth-core); the bounds are generous for a busy machine and far below nats.js' 20 s.
    const under = (ms: number, bound: number) => (ms < bound ? 'in time' : `${ms} ms`);
    expect({ ready: under(ready.ms, 1500), login: under(login.ms, 3500), token: under(token.ms, 2500) }).toEqual({
      ready: 'in time',
      login: 'in time',
      token: 'in time',
    });
  }, 60000);
});

describe('a gateway whose auth-core takes the status request but does not answer it', () => {
  // What the kubelet gives the gateway's readiness, and the request timeout it runs with, as shipped.
  const manifests = ['gateway.yaml', 'configmap.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(join(__dirname, '../../deploy/k8s/base', f), 'utf8')).map(
      (d) => d.toJS() as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    ),
  );
  const deployment = manifests.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway');
  const probeTimeoutMs = Number(deployment?.spec.template.spec.containers[0].readinessProbe.timeoutSeconds) * 1000;
  const requestTimeoutMs = manifests.find((o) => o.kind === 'ConfigMap')?.data.REQUEST_TIMEOUT_MS as string;
  const prefix = `t${randomBytes(5).toString('hex')}.`;
  let gateway: ManagedProcess;
  let nc: NatsConnection;
  let url = '';

  beforeAll(async () => {
    // A replica stuck mid-request (a long GC pause, a saturated event loop): it holds the queue
    // group's subscription, so the request is taken, and nobody answers.
    nc = await connect({ servers: NATS_URL });
    nc.subscribe(`${prefix}${SUBJECTS.STATUS}`, { callback: () => undefined });
    await nc.flush();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = spawnApp('gateway (stuck auth-core)', GATEWAY_MAIN, {
      PORT: String(port),
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: requestTimeoutMs,
    });
    await waitForReady(`${url}/health/live`, gateway);
  }, 30000);
  afterAll(async () => {
    await gateway?.stop();
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.endsWith(jetStreamName('', prefix))) await jsm.streams.delete(name);
    await nc.close();
  });

  it('answers readiness 503 within the readiness probe timeout of deploy/k8s, not after REQUEST_TIMEOUT_MS', async () => {
    // The kubelet counts a probe that times out as failed too, but learns nothing from it: the
    // answer must come in time to say which check failed, and probes must not pile up behind it.
    expect(Number(requestTimeoutMs)).toBeGreaterThanOrEqual(probeTimeoutMs);
    const t0 = Date.now();
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(15000) });
    const ms = Date.now() - t0;
    expect({ status: res.status, body: await res.json(), inTime: ms < probeTimeoutMs - 500 || ms }).toMatchObject({
      status: 503,
      body: { status: 'error', error: { auth_core: { status: 'down' } }, details: { nats: { status: 'up' } } },
      inTime: true,
    });
  }, 30000);
});
