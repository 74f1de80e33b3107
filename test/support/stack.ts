import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect, NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Client } from 'pg';
import { jetStreamName } from '@portcullis/contracts';

const ROOT = join(__dirname, '..', '..');
export const AUTH_CORE_MAIN = join(ROOT, 'dist/apps/auth-core/apps/auth-core/src/main.js');
export const GATEWAY_MAIN = join(ROOT, 'dist/apps/gateway/apps/gateway/src/main.js');
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });

/**
 * A port for an app a test starts. Each jest worker draws from its own slice of 10000–29999
 * (below Linux's ephemeral range): with port 0 the kernel could hand the same just-released port
 * to a suite running in another worker before the first app had bound it, and that suite would
 * then talk to the wrong app.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const slice = (Number(process.env.JEST_WORKER_ID ?? 1) - 1) % 8;
  for (;;) {
    const port = 10_000 + slice * 2_500 + Math.floor(Math.random() * 2_500);
    // Never the same port twice in one worker: two drawn before either app binds would clash.
    if (handedOut.has(port) && handedOut.size < 2_000) continue;
    // fetch() refuses the Fetch standard's "bad ports"; 10080 is the one in this range.
    if (port === 10_080) continue;
    if (!(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

export async function createDatabase(
  adminUrl = PG_ADMIN_URL,
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `pcl_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    name,
    url,
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export class ManagedProcess {
  readonly output: string[] = [];
  private exitCode: number | null | undefined;
  private exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve((this.exitCode = code))));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logs(): string {
    return this.output.join('');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}

/** The runtime flags of the image (Dockerfile `ENV NODE_OPTIONS`): the tests run what ships. */
export const APP_NODE_OPTIONS =
  /^ENV NODE_OPTIONS="(.*)"$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '';

export function spawnApp(name: string, main: string, env: Record<string, string>): ManagedProcess {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', NODE_OPTIONS: APP_NODE_OPTIONS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ManagedProcess(name, child);
}

export async function waitForReady(url: string, proc: ManagedProcess, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.name} exited during start:\n${proc.logs()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms:\n${proc.logs()}`);
}

export interface StackOptions {
  replicas?: number;
  /** A NATS server of the test's own (e.g. one it restarts); default the shared one. */
  natsUrl?: string;
  /** Identity and TLS of the test's own connection to that server. */
  natsOptions?: NodeConnectionOptions;
  /** Extra environment of the gateway. */
  gatewayEnv?: Record<string, string>;
  env?: Record<string, string>;
  /** Admin URL of a PostgreSQL of the test's own (e.g. one it stops); default the shared one. */
  pgAdminUrl?: string;
}

/** A whole Portcullis: N auth-core replicas and one gateway, on a fresh database and subject prefix. */
export class Stack {
  readonly adminUsername = 'admin';
  readonly adminPassword = `Adm1n-${randomBytes(12).toString('base64url')}`;
  readonly masterKey = randomBytes(48).toString('base64');
  readonly prefix = `t${randomBytes(5).toString('hex')}.`;
  readonly replicas: ManagedProcess[] = [];
  readonly replicaPorts: number[] = [];
  gateway!: ManagedProcess;
  gatewayPort = 0;
  db!: { name: string; url: string; drop: () => Promise<void> };
  private nc?: NatsConnection;
  private connecting?: Promise<NatsConnection>;

  /** One shared connection even when many requests start at once (each would otherwise connect, and leak). */
  private natsConnection(): Promise<NatsConnection> {
    this.connecting ??= connect({ ...this.options.natsOptions, servers: this.natsUrl });
    return this.connecting;
  }

  constructor(private readonly options: StackOptions = {}) {}

  get natsUrl(): string {
    return this.options.natsUrl ?? NATS_URL;
  }

  /** A JetStream stream or bucket name as the apps name it under this stack's prefix. */
  streamName(base: 'PORTCULLIS_EVENTS' | 'PORTCULLIS_LOGIN_FAILURES'): string {
    return jetStreamName(base, this.prefix);
  }

  get url(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  get issuer(): string {
    return this.url;
  }

  coreEnv(healthPort: number): Record<string, string> {
    return {
      DATABASE_URL: this.db.url,
      NATS_URL: this.natsUrl,
      NATS_SUBJECT_PREFIX: this.prefix,
      HEALTH_PORT: String(healthPort),
      MASTER_KEY: this.masterKey,
      ADMIN_USERNAME: this.adminUsername,
      ADMIN_PASSWORD: this.adminPassword,
      ISSUER: this.issuer,
      AUDIENCE: 'portcullis',
      LOG_LEVEL: 'info',
      ...this.options.env,
    };
  }

  async start(): Promise<this> {
    this.db = await createDatabase(this.options.pgAdminUrl);
    try {
      this.gatewayPort = await freePort();
      for (let i = 0; i < (this.options.replicas ?? 1); i++) await this.startReplica();
      this.gateway = spawnApp('gateway', GATEWAY_MAIN, this.gatewayEnv(this.gatewayPort));
      await waitForReady(`${this.url}/health/ready`, this.gateway);
    } catch (err) {
      // The caller never gets the stack to stop: do not leak running replicas or the database.
      await this.stop().catch(() => undefined);
      throw err;
    }
    return this;
  }

  private gatewayEnv(port: number): Record<string, string> {
    return {
      PORT: String(port),
      NATS_URL: this.natsUrl,
      NATS_SUBJECT_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '3000',
      ...this.options.gatewayEnv,
    };
  }

  /** Another gateway replica in front of the same auth-core replicas; the caller stops it. */
  async startGateway(): Promise<{ url: string; proc: ManagedProcess }> {
    const port = await freePort();
    const proc = spawnApp(`gateway:${port}`, GATEWAY_MAIN, this.gatewayEnv(port));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForReady(`${url}/health/ready`, proc);
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { url, proc };
  }

  async startReplica(): Promise<ManagedProcess> {
    const port = await freePort();
    const proc = spawnApp(`auth-core#${this.replicas.length}`, AUTH_CORE_MAIN, this.coreEnv(port));
    this.replicas.push(proc);
    this.replicaPorts.push(port);
    await waitForReady(`http://127.0.0.1:${port}/health/ready`, proc);
    return proc;
  }

  /** Request/reply on this stack's (prefixed) subject, exactly as a cluster service would. */
  async natsRequest<T = unknown>(subject: string, payload: unknown, timeout = 3000): Promise<T> {
    this.nc ??= await this.natsConnection();
    const msg = await this.nc.request(
      `${this.prefix}${subject}`,
      typeof payload === 'string' ? payload : JSON.stringify(payload),
      { timeout },
    );
    return msg.json<T>();
  }

  /** The test's own NATS connection; subjects are used as given (add `prefix` yourself). */
  async nats(): Promise<NatsConnection> {
    this.nc ??= await this.natsConnection();
    return this.nc;
  }

  async natsRaw(subject: string, payload: string | Uint8Array, timeout = 3000) {
    this.nc ??= await this.natsConnection();
    return this.nc.request(`${this.prefix}${subject}`, payload, { timeout });
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: this.db.url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /** Until `n` of this stack's database sessions wait on a lock (a request a test holds at a row). */
  async lockWaiters(n: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const [{ waiting }] = await this.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (waiting >= n) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${n} lock waiter(s) never showed up`);
  }

  async metric(replica: number, name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.replicaPorts[replica]}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  logs(): string {
    return [...this.replicas, this.gateway]
      .filter(Boolean)
      .map((p) => `--- ${p.name}\n${p.logs()}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([this.gateway, ...this.replicas].filter(Boolean).map((p) => p.stop()));
    // The apps leave JetStream streams named after the prefix (events, the failed-login bucket)
    // even when the test itself never used NATS.
    if (this.db) this.nc ??= await this.natsConnection().catch(() => undefined);
    if (this.nc) {
      try {
        const jsm = await jetstreamManager(this.nc);
        const streams = await jsm.streams.names().next();
        // This stack's streams and buckets only: their names end in the folded prefix.
        const mine = jetStreamName('', this.prefix);
        for (const s of streams) if (mine && s.endsWith(mine)) await jsm.streams.delete(s);
      } catch {
        /* best effort */
      }
      await this.nc.close();
    }
    await this.db?.drop();
  }
}

export async function login(stack: Stack, username = stack.adminUsername, password = stack.adminPassword) {
  const res = await fetch(`${stack.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    access_token: string;
    refresh_token: string;
    tid: string;
    userId: string;
    roles: string[];
    expires_in: number;
    passwordWasNeverChanged: boolean;
  };
}

/** Polls until `check` holds or the deadline passes; returns the elapsed milliseconds. */
export async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start <= ms) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

export const EXAMPLE_SERVICE_MAIN = join(ROOT, 'dist/apps/example-service/apps/example-service/src/main.js');

/** The example service (apps/example-service) wired to a stack, in the given SDK mode. */
export async function startExampleService(stack: Stack, mode: 'local' | 'remote', env: Record<string, string> = {}) {
  const port = await freePort();
  const proc = spawnApp(`example-service(${mode})`, EXAMPLE_SERVICE_MAIN, {
    PORT: String(port),
    NATS_URL: stack.natsUrl,
    NATS_SUBJECT_PREFIX: stack.prefix,
    AUTH_MODE: mode,
    ...env,
  });
  await waitForReady(`http://127.0.0.1:${port}/health/ready`, proc);
  return { proc, url: `http://127.0.0.1:${port}` };
}
