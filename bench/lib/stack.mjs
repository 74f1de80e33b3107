import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { Child, freePort, waitForHttp } from './procs.mjs';

/**
 * A whole Portcullis started from the build (dist/), the way test/support/stack.ts does it for
 * the e2e suites: a fresh database, a random NATS subject prefix, N auth-core replicas, a gateway.
 */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AUTH_CORE_REL = 'apps/auth-core/apps/auth-core/src/main.js';
const GATEWAY_REL = 'apps/gateway/apps/gateway/src/main.js';
let DIST = join(ROOT, 'dist');

/**
 * Other work on this tree may rebuild dist/ while the bench runs (a replica started half-way
 * through a build would fail), so the bench runs a private copy taken when no build is running.
 * It lives under bench/ so the copy still resolves node_modules from the repository root.
 */
export async function snapshotDist() {
  if (process.env.BENCH_DIST) return (DIST = process.env.BENCH_DIST); // an explicit build, used as it is
  const src = join(ROOT, 'dist');
  for (const rel of [AUTH_CORE_REL, GATEWAY_REL])
    if (!existsSync(join(src, rel))) throw new Error(`${join(src, rel)} is missing: run \`npm run build\` first`);
  const deadline = Date.now() + 120_000;
  while (buildRunning() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
  const dst = join(ROOT, 'bench/.dist');
  rmSync(dst, { recursive: true, force: true });
  cpSync(src, dst, { recursive: true });
  DIST = dst;
  return dst;
}

function buildRunning() {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/nest build|\btsc\b/.test(cmd)) return true;
    } catch {
      /* gone */
    }
  }
  return false;
}

const AUTH_CORE_MAIN = () => join(DIST, AUTH_CORE_REL);
const GATEWAY_MAIN = () => join(DIST, GATEWAY_REL);
export const PG_ADMIN_URL =
  process.env.BENCH_PG_ADMIN_URL ?? process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export async function createDatabase(tag = 'bench') {
  const name = `pcl_${tag}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    name,
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The runtime flags of the image (Dockerfile `ENV NODE_OPTIONS`): the bench measures what ships. */
export const APP_NODE_OPTIONS =
  (readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^ENV NODE_OPTIONS="(.*)"$/m) ?? [])[1] ?? '';

export class Stack {
  constructor({ env = {}, appEnv = {}, coreNodeArgs = [], gatewayNodeArgs = [], logLevel = 'info' } = {}) {
    this.env = env;
    /** Environment for both apps (e.g. NODE_OPTIONS for a what-if run). */
    this.appEnv = appEnv;
    this.coreNodeArgs = coreNodeArgs;
    this.gatewayNodeArgs = gatewayNodeArgs;
    this.logLevel = logLevel;
    this.adminUsername = 'admin';
    this.adminPassword = `Adm1n-${randomBytes(12).toString('base64url')}`;
    this.masterKey = randomBytes(48).toString('base64');
    this.prefix = `b${randomBytes(5).toString('hex')}.`;
    this.replicas = [];
    this.replicaPorts = [];
  }

  get url() {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  coreEnv(healthPort) {
    return {
      NODE_ENV: 'production',
      DATABASE_URL: this.db.url,
      NATS_URL,
      NATS_SUBJECT_PREFIX: this.prefix,
      HEALTH_PORT: String(healthPort),
      MASTER_KEY: this.masterKey,
      ADMIN_USERNAME: this.adminUsername,
      ADMIN_PASSWORD: this.adminPassword,
      ISSUER: this.url,
      AUDIENCE: 'portcullis',
      LOG_LEVEL: this.logLevel,
      NODE_OPTIONS: APP_NODE_OPTIONS,
      ...this.appEnv,
      ...this.env,
    };
  }

  gatewayEnv(port, prefix = this.prefix) {
    return {
      NODE_ENV: 'production',
      PORT: String(port),
      NATS_URL,
      NATS_SUBJECT_PREFIX: prefix,
      LOG_LEVEL: this.logLevel,
      REQUEST_TIMEOUT_MS: '5000',
      NODE_OPTIONS: APP_NODE_OPTIONS,
      ...this.appEnv,
    };
  }

  async start(replicas = 1) {
    for (const main of [AUTH_CORE_MAIN(), GATEWAY_MAIN()])
      if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
    this.db = await createDatabase();
    try {
      this.gatewayPort = await freePort();
      for (let i = 0; i < replicas; i++) await this.startReplica();
      this.gateway = new Child('gateway', [GATEWAY_MAIN()], {
        cwd: ROOT,
        nodeArgs: this.gatewayNodeArgs,
        env: this.gatewayEnv(this.gatewayPort),
      });
      await waitForHttp(`${this.url}/health/ready`, this.gateway);
      this.nc = await connect({ servers: NATS_URL, name: 'bench', noAsyncTraces: true });
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
    return this;
  }

  async startReplica(nodeArgs = this.coreNodeArgs) {
    const port = await freePort();
    const child = new Child(`auth-core#${this.replicas.length}`, [AUTH_CORE_MAIN()], {
      cwd: ROOT,
      env: this.coreEnv(port),
      nodeArgs,
    });
    this.replicas.push(child);
    this.replicaPorts.push(port);
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, child);
    return child;
  }

  /**
   * An extra auth-core on the same database and keys but under a subject prefix of its own, with
   * extra environment: a what-if configuration measured beside the shipped one in the same run.
   * Nothing else sends it requests.
   */
  async startSidecar(name, env) {
    const port = await freePort();
    const prefix = `${this.prefix}${name}.`;
    const child = new Child(name, [AUTH_CORE_MAIN()], {
      cwd: ROOT,
      env: { ...this.coreEnv(port), NATS_SUBJECT_PREFIX: prefix, MIGRATE_ON_START: 'false', ...env },
      nodeArgs: this.coreNodeArgs,
    });
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, child);
    return { child, subject: (s) => `${prefix}${s}`, stop: () => child.stop() };
  }

  /**
   * A second gateway from the same build and environment under a subject prefix of its own, so
   * that whatever answers `${prefix}auth.v1.…` stands behind it instead of the stack's auth-core.
   * Its /health/ready asks auth-core, so only liveness is waited on.
   */
  async startGateway(name, prefix) {
    const port = await freePort();
    const child = new Child(name, [GATEWAY_MAIN()], {
      cwd: ROOT,
      nodeArgs: this.gatewayNodeArgs,
      env: this.gatewayEnv(port, prefix),
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${url}/health/live`, child);
    } catch (err) {
      await child.stop();
      throw err;
    }
    return { child, url, stop: () => child.stop() };
  }

  /** Stops one replica (SIGTERM: Nest drains and exits, which also writes a --cpu-prof profile). */
  async stopReplica(i) {
    await this.replicas[i].stop();
  }

  subject(name) {
    return `${this.prefix}${name}`;
  }

  async metric(replica, name) {
    const text = await (await fetch(`http://127.0.0.1:${this.replicaPorts[replica]}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  /**
   * V8 heap (total/used), external memory and RSS of the gateway and of replica 0 as each reports
   * it on /metrics, in MB: tells heap growth from native memory when an RSS figure needs explaining.
   */
  async heap() {
    const read = async (url) => {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
      const get = (name) => {
        // Default metrics carry each app's prefix (portcullis_gateway_…, portcullis_auth_core_…).
        const line = text.split('\n').find((l) => /^[a-z_]+ /.test(l) && l.split(' ')[0].endsWith(name));
        return line ? Math.round((Number(line.split(' ').pop()) / 1048576) * 10) / 10 : null;
      };
      return {
        heapTotal: get('nodejs_heap_size_total_bytes'),
        heapUsed: get('nodejs_heap_size_used_bytes'),
        external: get('nodejs_external_memory_bytes'),
        rss: get('process_resident_memory_bytes'),
      };
    };
    const out = {};
    for (const [name, url] of [
      ['auth-core', `http://127.0.0.1:${this.replicaPorts[0]}/metrics`],
      ['gateway', `${this.url}/metrics`],
    ])
      out[name] = await read(url).catch(() => null);
    return out;
  }

  async query(sql, params = []) {
    const c = new pg.Client({ connectionString: this.db.url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  logs() {
    return [...this.replicas, this.gateway]
      .filter(Boolean)
      .map((p) => `--- ${p.name}\n${p.logs()}`)
      .join('\n');
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.gateway, ...this.replicas].filter(Boolean).map((p) => p.stop()));
    if (this.nc) {
      try {
        const jsm = await jetstreamManager(this.nc);
        const folded = this.prefix.replace(/[^A-Za-z0-9_-]/g, '_');
        for await (const s of jsm.streams.names()) if (s.includes(folded)) await jsm.streams.delete(s);
      } catch {
        /* best effort */
      }
      await this.nc.close();
    }
    await this.db?.drop();
  }
}

/** A small JSON-over-HTTP client bound to the gateway. */
export function http(base, token) {
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  };
  return {
    get: (p) => call('GET', p),
    post: (p, b = {}) => call('POST', p, b),
    del: (p) => call('DELETE', p),
  };
}

export function must(res, status, what) {
  if (res.status !== status)
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
