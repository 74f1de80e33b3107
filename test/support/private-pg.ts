import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './stack';

/**
 * A throwaway PostgreSQL cluster of the test's own (initdb in a temp dir, random port, trust auth),
 * so a test may stop, kill or freeze it without touching the shared server other suites use.
 * Run as the `postgres` OS user when the tests run as root (initdb refuses root).
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for Stack's pgAdminUrl. */
  adminUrl: string;
  port: number;
  /** `fast` (clean) or `immediate` (like a crash: recovery from WAL at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT to the server and all its backends: a database that hangs instead of refusing. */
  freeze(): void;
  thaw(): void;
  /** Stops and removes the cluster and its directory. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length) return join(root, versions[versions.length - 1], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  throw new Error('initdb not found: install the postgresql package (apt-get install postgresql)');
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary as the postgres OS user when we are root. */
function pgRun(bin: string, args: string[], timeoutMs = 60000): string {
  const cmd = join(binDir(), bin);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitUntilAccepting(url: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (err) {
      last = err;
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`private PostgreSQL did not accept connections: ${(last as Error)?.message}`);
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'pcl-pg-'));
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=100 -c shared_buffers=32MB`;
  const start = async () => {
    pgRun('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '30', 'start']);
    await waitUntilAccepting(adminUrl);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!existsSync(join(data, 'postmaster.pid'))) return;
    pgRun('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  };
  const signalAll = (signal: 'STOP' | 'CONT') => {
    const pid = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
    // Children first when stopping (so none notices its parent froze), parent first when resuming.
    if (signal === 'CONT') execFileSync('kill', [`-${signal}`, pid]);
    spawnSync('pkill', [`-${signal}`, '-P', pid]);
    if (signal === 'STOP') execFileSync('kill', [`-${signal}`, pid]);
  };
  await start();
  return {
    adminUrl,
    port,
    stop,
    start,
    freeze: () => signalAll('STOP'),
    thaw: () => signalAll('CONT'),
    destroy: async () => {
      try {
        signalAll('CONT');
      } catch {
        /* not running */
      }
      try {
        await stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
