import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { jetStreamName, SUBJECTS } from '@portcullis/contracts';
import {
  AUTH_CORE_MAIN,
  createDatabase,
  freePort,
  ManagedProcess,
  NATS_URL,
  spawnApp,
  waitForReady,
  within,
} from '../support/stack';

/**
 * auth-core refuses to start on bad configuration, naming the variable (SPEC §6), and the
 * migration runner is idempotent and safe to run concurrently.
 */

const MIGRATE_MAIN = join(dirname(AUTH_CORE_MAIN), 'database', 'migrate.js');
/** Tables the product cannot do without; later migrations may add more. */
const CORE_TABLES = [
  'access_tokens',
  'audit_events',
  'clients',
  'portcullis_migrations',
  'refresh_tokens',
  'signing_keys',
  'users',
];
/** One migration per compiled file, named `<timestamp>-<name>.js`. */
const MIGRATION_COUNT = readdirSync(join(dirname(MIGRATE_MAIN), 'migrations')).filter((f) =>
  /^\d+-.+\.js$/.test(f),
).length;
const GOOD_MASTER_KEY = randomBytes(48).toString('base64');

let db: Awaited<ReturnType<typeof createDatabase>>;
const started: ManagedProcess[] = [];

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

const tablesOf = async (url: string) =>
  (
    await sql<{ t: string }>(
      url,
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    )
  ).map((r) => r.t);

/** A replica makes its events stream under the test's subject prefix: the test removes it after. */
async function dropEventsStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  await (await jetstreamManager(nc)).streams.delete(jetStreamName('PORTCULLIS_EVENTS', prefix)).catch(() => undefined);
  await nc.close();
}

async function baseEnv(): Promise<Record<string, string>> {
  return {
    DATABASE_URL: db.url,
    NATS_URL,
    NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString('hex')}.`,
    HEALTH_PORT: String(await freePort()),
    MASTER_KEY: GOOD_MASTER_KEY,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: `Adm1n-${randomBytes(12).toString('base64url')}`,
    ISSUER: 'http://127.0.0.1:3000',
    AUDIENCE: 'portcullis',
    LOG_LEVEL: 'info',
  };
}

/** Runs a process to completion (bounded), returning its exit code and output. */
async function run(name: string, main: string, env: Record<string, string>, timeoutMs = 20000) {
  const proc = spawnApp(name, main, env);
  started.push(proc);
  const timer = setTimeout(() => void proc.stop('SIGKILL'), timeoutMs);
  const code = await proc.waitForExit();
  clearTimeout(timer);
  return { code, out: proc.logs() };
}

beforeAll(async () => {
  db = await createDatabase();
}, 60000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
  await db?.drop();
}, 60000);

describe('auth-core configuration', () => {
  const omit = (env: Record<string, string>, key: string) =>
    Object.fromEntries(Object.entries(env).filter(([k]) => k !== key));

  it.each<[string, (env: Record<string, string>) => Record<string, string>, string[]]>([
    ['production without MASTER_KEY', (e) => ({ ...omit(e, 'MASTER_KEY'), NODE_ENV: 'production' }), ['MASTER_KEY']],
    [
      'production with a short MASTER_KEY',
      (e) => ({ ...e, NODE_ENV: 'production', MASTER_KEY: 'x'.repeat(31) }),
      ['MASTER_KEY'],
    ],
    [
      'a short MASTER_KEY outside production',
      (e) => ({ ...e, NODE_ENV: 'test', MASTER_KEY: 'short-key' }),
      ['MASTER_KEY'],
    ],
    ['a non-postgres DATABASE_URL', (e) => ({ ...e, DATABASE_URL: 'mysql://root@127.0.0.1/db' }), ['DATABASE_URL']],
    ['no DATABASE_URL', (e) => omit(e, 'DATABASE_URL'), ['DATABASE_URL']],
    // Each passed a prefix check, then failed inside the driver as a bare "Invalid URL" or
    // "URI malformed" stack after three connection attempts, never naming the variable.
    [
      'a DATABASE_URL with a port out of range',
      (e) => ({ ...e, DATABASE_URL: 'postgres://u:pw@127.0.0.1:99999/db' }),
      ['DATABASE_URL'],
    ],
    [
      'a DATABASE_URL with a bad port',
      (e) => ({ ...e, DATABASE_URL: 'postgres://u@127.0.0.1:abc/db' }),
      ['DATABASE_URL'],
    ],
    [
      'a DATABASE_URL with a broken escape',
      (e) => ({ ...e, DATABASE_URL: 'postgres://u:100%@127.0.0.1:5432/db' }),
      ['DATABASE_URL'],
    ],
    ['ACCESS_TOKEN_TTL=abc', (e) => ({ ...e, ACCESS_TOKEN_TTL: 'abc' }), ['ACCESS_TOKEN_TTL']],
    ['ACCESS_TOKEN_TTL below the minimum', (e) => ({ ...e, ACCESS_TOKEN_TTL: '1' }), ['ACCESS_TOKEN_TTL']],
    ['SESSION_MAX_TTL neither 0 nor at least 60', (e) => ({ ...e, SESSION_MAX_TTL: '30' }), ['SESSION_MAX_TTL']],
    ['SESSION_MAX_TTL negative', (e) => ({ ...e, SESSION_MAX_TTL: '-1' }), ['SESSION_MAX_TTL']],
    ['LOCKOUT_RESET_SECONDS negative', (e) => ({ ...e, LOCKOUT_RESET_SECONDS: '-5' }), ['LOCKOUT_RESET_SECONDS']],
    ['REFRESH_TOKEN_TTL=-5', (e) => ({ ...e, REFRESH_TOKEN_TTL: '-5' }), ['REFRESH_TOKEN_TTL']],
    ['an http NATS_URL', (e) => ({ ...e, NATS_URL: 'http://127.0.0.1:4222' }), ['NATS_URL']],
    // Passed the scheme check, then "auth-core failed to start: TypeError: Invalid URL".
    ['a NATS_URL with a port out of range', (e) => ({ ...e, NATS_URL: 'nats://127.0.0.1:99999' }), ['NATS_URL']],
    ['a NATS_URL without a host', (e) => ({ ...e, NATS_URL: 'nats://:4222' }), ['NATS_URL']],
    ['an ISSUER that is not a URL', (e) => ({ ...e, ISSUER: 'portcullis' }), ['ISSUER']],
    // Passed the http(s) prefix check; discovery then advertised endpoints no client can use.
    ['an ISSUER with a port out of range', (e) => ({ ...e, ISSUER: 'https://auth.example.com:99999' }), ['ISSUER']],
    ['an ISSUER with a query', (e) => ({ ...e, ISSUER: 'https://auth.example.com/?tenant=a' }), ['ISSUER']],
    ['an ISSUER with a fragment', (e) => ({ ...e, ISSUER: 'https://auth.example.com/#x' }), ['ISSUER']],
    ['a NATS_SUBJECT_PREFIX with a space', (e) => ({ ...e, NATS_SUBJECT_PREFIX: 'a b.' }), ['NATS_SUBJECT_PREFIX']],
    ['a NATS_SUBJECT_PREFIX with a wildcard', (e) => ({ ...e, NATS_SUBJECT_PREFIX: '*.' }), ['NATS_SUBJECT_PREFIX']],
    ['an unknown LOG_LEVEL', (e) => ({ ...e, LOG_LEVEL: 'loud' }), ['LOG_LEVEL']],
    ['an unknown NODE_ENV', (e) => ({ ...e, NODE_ENV: 'prod' }), ['NODE_ENV']],
    [
      'a ROLE_PERMISSIONS naming an unknown permission',
      (e) => ({ ...e, ROLE_PERMISSIONS: '{"ops":["fly"]}' }),
      ['ROLE_PERMISSIONS'],
    ],
    ['a ROLE_PERMISSIONS changing admin', (e) => ({ ...e, ROLE_PERMISSIONS: '{"admin":[]}' }), ['ROLE_PERMISSIONS']],
    [
      'several bad values at once',
      (e) => ({ ...e, ACCESS_TOKEN_TTL: 'abc', DATABASE_URL: 'nope', MASTER_KEY: 'short-key' }),
      ['ACCESS_TOKEN_TTL', 'DATABASE_URL', 'MASTER_KEY'],
    ],
  ])('%s → exit 1 naming it', async (_label, mutate, names) => {
    const env = mutate(await baseEnv());
    const { code, out } = await run('auth-core', AUTH_CORE_MAIN, env);
    expect(code).toBe(1);
    expect(out).toContain('Invalid configuration:');
    for (const name of names) expect(out).toMatch(new RegExp(`^\\s+${name}: \\S`, 'm'));
  });

  it('does not echo the rejected secret value', async () => {
    const secret = `leak-${randomBytes(6).toString('hex')}`;
    const { code, out } = await run('auth-core', AUTH_CORE_MAIN, {
      ...(await baseEnv()),
      NODE_ENV: 'production',
      MASTER_KEY: secret,
    });
    expect(code).toBe(1);
    expect(out).toContain('MASTER_KEY');
    expect(out).not.toContain(secret);
  });

  it('a config error stops it before the database is touched', async () => {
    const fresh = await createDatabase();
    try {
      const { code } = await run('auth-core', AUTH_CORE_MAIN, {
        ...(await baseEnv()),
        DATABASE_URL: fresh.url,
        ACCESS_TOKEN_TTL: 'abc',
      });
      expect(code).toBe(1);
      expect(await tablesOf(fresh.url)).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it('the same environment with good values starts in production (control)', async () => {
    const fresh = await createDatabase();
    const env: Record<string, string> = { ...(await baseEnv()), DATABASE_URL: fresh.url, NODE_ENV: 'production' };
    const proc = spawnApp('auth-core', AUTH_CORE_MAIN, env);
    started.push(proc);
    try {
      await waitForReady(`http://127.0.0.1:${env.HEALTH_PORT}/health/ready`, proc);
      expect(proc.running).toBe(true);
      expect(proc.logs()).not.toContain('Invalid configuration');
    } finally {
      // Nest re-raises SIGTERM after its shutdown hooks, so a clean stop is exit 0 or death by SIGTERM.
      const code = await proc.stop();
      expect({ code, signal: proc.child.signalCode }).toEqual(
        code === 0 ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' },
      );
      await fresh.drop();
      // The replica made its events stream under this test's prefix: it goes too.
      await dropEventsStream(env.NATS_SUBJECT_PREFIX);
    }
  });
});

describe('auth-core logs', () => {
  it('never show the password of a NATS_URL that carries one', async () => {
    const fresh = await createDatabase();
    const secret = `natspw-${randomBytes(6).toString('hex')}`;
    // nats.js takes user:password@ from the URL; the shared test server has no auth and ignores it.
    const natsUrl = NATS_URL.replace('nats://', `nats://probe:${secret}@`);
    const env: Record<string, string> = { ...(await baseEnv()), DATABASE_URL: fresh.url, NATS_URL: natsUrl };
    const proc = spawnApp('auth-core', AUTH_CORE_MAIN, env);
    started.push(proc);
    try {
      await waitForReady(`http://127.0.0.1:${env.HEALTH_PORT}/health/ready`, proc);
      await within(5000, async () => proc.logs().includes('auth-core ready'));
      expect(proc.logs()).toContain('auth-core ready: NATS nats://');
      expect(proc.logs()).not.toContain(secret);
    } finally {
      await proc.stop();
      await fresh.drop();
      await dropEventsStream(env.NATS_SUBJECT_PREFIX);
    }
  });
});

describe('migrations', () => {
  let tablesAfterFirstRun: string[] = [];

  it('apply on an empty database, creating every table', async () => {
    expect(MIGRATION_COUNT).toBeGreaterThan(0);
    expect(await tablesOf(db.url)).toEqual([]);
    const { code, out } = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: db.url });
    expect({ code, out }).toEqual({
      code: 0,
      out: expect.stringContaining('Applied migrations: InitialSchema1763800000000'),
    });
    tablesAfterFirstRun = await tablesOf(db.url);
    expect(tablesAfterFirstRun).toEqual(expect.arrayContaining(CORE_TABLES));
    const rows = await sql<{ name: string }>(db.url, 'SELECT name FROM portcullis_migrations ORDER BY timestamp');
    expect(rows).toHaveLength(MIGRATION_COUNT);
    expect(rows[0].name).toBe('InitialSchema1763800000000');
    // Every applied migration is named in the output.
    for (const r of rows) expect(out).toContain(r.name);
  });

  it('a second run is a no-op', async () => {
    const { code, out } = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: db.url });
    expect(code).toBe(0);
    expect(out).toContain('Database schema is up to date');
    expect(out).not.toContain('Applied migrations');
    expect(await tablesOf(db.url)).toEqual(tablesAfterFirstRun);
    expect(await sql(db.url, 'SELECT name FROM portcullis_migrations')).toHaveLength(MIGRATION_COUNT);
  });

  it('reach a PostgreSQL on the same host over its Unix socket (the host is the socket directory, URL-encoded)', async () => {
    const [{ dir }] = await sql<{ dir: string }>(
      db.url,
      `SELECT split_part(current_setting('unix_socket_directories'), ',', 1) AS dir`,
    );
    const socketUrl = `postgres://postgres@${encodeURIComponent(dir.trim())}/${db.name}`;
    // Proof the URL names the socket: pg reports no server address for a socket connection.
    expect(await sql(socketUrl, 'SELECT inet_server_addr() AS addr')).toEqual([{ addr: null }]);
    const { code, out } = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: socketUrl });
    expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining('Database schema is up to date') });
  });

  it('the schema carries the key constraints (case-insensitive unique username, unique clientId)', async () => {
    const idx = await sql<{ indexdef: string }>(
      db.url,
      `SELECT indexdef FROM pg_indexes WHERE tablename IN ('users','clients') AND indexdef LIKE 'CREATE UNIQUE%'`,
    );
    const defs = idx.map((r) => r.indexdef.toLowerCase()).join('\n');
    expect(defs).toMatch(/on public\.users using \w+ \((lower\()?username(_normalized)?\)?\)/);
    expect(defs).toMatch(/on public\.clients using \w+ \(client_id\)/);
  });

  it('three runs at once on a fresh database all succeed and apply the schema exactly once', async () => {
    const fresh = await createDatabase();
    try {
      const results = await Promise.all(
        [1, 2, 3].map((i) => run(`migrate#${i}`, MIGRATE_MAIN, { DATABASE_URL: fresh.url })),
      );
      for (const r of results)
        expect({ code: r.code, out: r.out }).toEqual({
          code: 0,
          out: expect.stringMatching(/Applied migrations|up to date/),
        });
      expect(results.filter((r) => r.out.includes('Applied migrations'))).toHaveLength(1);
      expect(await tablesOf(fresh.url)).toEqual(expect.arrayContaining(CORE_TABLES));
      expect(await sql(fresh.url, 'SELECT name FROM portcullis_migrations')).toHaveLength(MIGRATION_COUNT);
    } finally {
      await fresh.drop();
    }
  });

  it('without DATABASE_URL it exits 1 naming the variable', async () => {
    const { code, out } = await run('migrate', MIGRATE_MAIN, {});
    expect(code).toBe(1);
    expect(out).toMatch(/DATABASE_URL/);
  });

  it('a DATABASE_URL that is no URL exits 1 naming the variable, not echoing it', async () => {
    const { code, out } = await run('migrate', MIGRATE_MAIN, {
      DATABASE_URL: 'postgres://u:s3cret%@127.0.0.1:99999/db',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/DATABASE_URL/);
    expect(out).not.toContain('s3cret');
  });

  it('an unreachable database fails with exit 1, not a hang', async () => {
    const port = await freePort();
    const { code, out } = await run(
      'migrate',
      MIGRATE_MAIN,
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere` },
      15000,
    );
    expect(code).toBe(1);
    expect(out).toContain('Migration failed');
  });

  it('logs JSON lines as the apps do (the Job shares their log pipeline), the outcome among them', async () => {
    const json = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; app: string });
    const upToDate = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: db.url });
    const port = await freePort();
    const failed = await run('migrate', MIGRATE_MAIN, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere`,
    });
    const badUrl = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: 'mysql://x' });
    expect([upToDate, failed, badUrl].map((r) => json(r.out).map(({ level, msg }) => ({ level, msg })))).toEqual([
      [{ level: 30, msg: 'Database schema is up to date' }],
      [{ level: 60, msg: expect.stringContaining('Migration failed: ') }],
      [{ level: 60, msg: expect.stringMatching(/^Invalid configuration:\n {2}DATABASE_URL: /) }],
    ]);
  }, 30000);
});

describe('auth-core with MIGRATE_ON_START=false on a database the migration job has not reached yet', () => {
  it('stays live but not ready, serves no NATS request, and starts once the migrations are applied', async () => {
    const fresh = await createDatabase();
    const env: Record<string, string> = { ...(await baseEnv()), DATABASE_URL: fresh.url, MIGRATE_ON_START: 'false' };
    const health = `http://127.0.0.1:${env.HEALTH_PORT}`;
    const nc = await connect({ servers: NATS_URL });
    const status = () =>
      nc.request(`${env.NATS_SUBJECT_PREFIX}${SUBJECTS.STATUS}`, '{}', { timeout: 1000 }).then(
        (m) => m.json<{ auth_db_initialized: boolean }>(),
        (err: Error) => err.message,
      );
    const proc = spawnApp('auth-core (schema pending)', AUTH_CORE_MAIN, env);
    started.push(proc);
    try {
      await within(15000, async () => (await fetch(`${health}/health/live`).catch(() => null))?.status === 200);
      // A rollout does not wait for the job: meanwhile the replica is neither ready nor in the queue group.
      const ready = await fetch(`${health}/health/ready`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain('InitialSchema1763800000000');
      expect(await status()).toMatch(/no responders|503/i);
      expect(proc.running).toBe(true);

      const { code } = await run('migrate', MIGRATE_MAIN, { DATABASE_URL: fresh.url });
      expect(code).toBe(0);
      await waitForReady(`${health}/health/ready`, proc, 20000);
      // A probe's answer is never cached (terminus' header, kept without its OpenAPI description).
      expect((await fetch(`${health}/health/ready`)).headers.get('cache-control')).toBe(
        'no-cache, no-store, must-revalidate',
      );
      expect(await status()).toMatchObject({ auth_db_initialized: true });
      expect(proc.logs()).toContain('waiting for');
      expect(await proc.stop()).toBe(0);
    } finally {
      await proc.stop('SIGKILL');
      await nc.close();
      await dropEventsStream(env.NATS_SUBJECT_PREFIX);
      await fresh.drop();
    }
  }, 60000);

  it('a SIGTERM while it waits stops it at once with exit 0', async () => {
    const fresh = await createDatabase();
    const env: Record<string, string> = { ...(await baseEnv()), DATABASE_URL: fresh.url, MIGRATE_ON_START: 'false' };
    const proc = spawnApp('auth-core (schema pending)', AUTH_CORE_MAIN, env);
    started.push(proc);
    try {
      await within(
        15000,
        async () => (await fetch(`http://127.0.0.1:${env.HEALTH_PORT}/health/live`).catch(() => null))?.status === 200,
      );
      const t0 = Date.now();
      expect(await proc.stop('SIGTERM', 5000)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await proc.stop('SIGKILL');
      await fresh.drop();
    }
  }, 60000);
});
