import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench -- --smoke` (issue #9): the benchmark's code paths with tiny counts, so the
 * suite cannot rot. Numbers are not judged here, only that every measurement still runs and
 * lands in results.json and REPORT.md.
 */
const ROOT = join(__dirname, '..', '..');

const ROWS = [
  'ceiling.nats.c1',
  'ceiling.nats.c64',
  'ceiling.es256.crypto',
  'ceiling.es256.jose',
  'ceiling.http.fastify',
  'ceiling.http_nats.get',
  'ceiling.http_nats.form',
  'ceiling.nats_verify.c64',
  'ceiling.nats_verify.workers1.c64',
  'ceiling.nats_verify.workers2.c64',
  'ceiling.argon2.1core',
  'ceiling.argon2.2cores',
  'ceiling.pg.insert',
  'ceiling.pg.token_batch',
  'ceiling.gateway.live',
  'pcl.nats.validate.same.c1',
  'pcl.nats.validate.same.c64',
  'pcl.nats.validate.distinct.c1',
  'pcl.nats.validate.distinct.c64',
  'pcl.nats.validate.distinct.workers2.c64',
  'turns.nats.validate.same.c64',
  'turns.nats_verify.c64',
  'turns.nats_verify.workers2.c64',
  'turns.nats.validate.distinct.c64',
  'turns.nats.validate.distinct.workers2.c64',
  'pcl.http.validate',
  'pcl.http.pat_validate',
  'pcl.http.client_credentials',
  'ceiling.nest_shape.form',
  'pcl.http.client_credentials.gateway_alone',
  'pcl.http.client_credentials.core_alone',
  'pcl.http.refresh',
  'pcl.http.login',
  'pcl.http.login.gateway_alone',
  'turns.http.login',
  'turns.http.login.core_alone',
  'ceiling.login_shape',
  'turns.login_shape',
  'peer.introspection',
  'turns.http.validate',
  'peer.client_credentials',
  'turns.http.client_credentials',
  'ceiling.durable_shape.form',
  'turns.durable_shape.form',
  'ceiling.nest_durable_shape.form',
  'turns.nest_durable_shape.form',
  'pcl.revocation',
  'pcl.memory.idle',
  'pcl.memory.fixtures',
  'pcl.memory.load',
];
const TARGETS = [
  'nats-validate-same',
  'nats-validate-distinct',
  'http-validate',
  'client-credentials',
  'password-login',
  'revocation-p99',
  'rss-under-load',
];

interface Row {
  id: string;
  ops?: number;
  errors?: number;
  throughput: number | null;
  p50_ms?: number | null;
  p99_ms?: number | null;
  lastError?: string;
  rssMb?: Record<string, number>;
  peakRssMb?: Record<string, number>;
  heapAfterMb?: Record<string, { heapTotal: number | null; rss: number | null } | null>;
  turns?: { rounds: number; a: { ops: number; errors: number }; ratios: number[]; medianRatio: number };
  threads?: { main: { runPct: number; waitPct: number }; others: { runPct: number; waitPct: number; threads: number } };
}

describe('benchmark smoke mode (issue #9)', () => {
  const out = mkdtempSync(join(tmpdir(), 'pcl-bench-smoke-'));
  let code: number | null = null;
  let output = '';

  beforeAll(async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bench/run.mjs'), '--smoke', '--out', out], {
      cwd: ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    code = await new Promise((resolve) => child.on('exit', resolve));
  }, 240000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs to the end and writes results.json with every row and target, and REPORT.md', () => {
    expect({ code, tail: code === 0 ? '' : output.slice(-4000) }).toEqual({ code: 0, tail: '' });
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      meta: { mode: string };
      rows: Row[];
      targets: Array<{ id: string; pass: boolean }>;
    };
    expect(results.meta.mode).toBe('smoke');
    expect(results.rows.map((r) => r.id).sort()).toEqual([...ROWS].sort());
    expect(results.targets.map((t) => t.id).sort()).toEqual([...TARGETS].sort());
    for (const row of results.rows) {
      if (row.id.startsWith('pcl.memory')) {
        expect(Object.keys(row.rssMb ?? {})).toEqual(expect.arrayContaining(['auth-core', 'gateway']));
        continue;
      }
      // Every measurement did real work, and nothing failed on the way.
      expect({ id: row.id, ops: (row.ops ?? 0) > 0, errors: row.errors, lastError: row.lastError }).toEqual({
        id: row.id,
        ops: true,
        errors: 0,
        lastError: undefined,
      });
      if (row.id.startsWith('turns.'))
        // Both sides of every round ran, the ceiling side without a failure either.
        expect({
          id: row.id,
          ceilingOps: row.turns!.a.ops > 0,
          ceilingErrors: row.turns!.a.errors,
          rounds: row.turns!.ratios.length,
        }).toEqual({
          id: row.id,
          ceilingOps: true,
          ceilingErrors: 0,
          rounds: row.turns!.rounds,
        });
      expect(row.p50_ms).toEqual(expect.any(Number));
      expect(row.p99_ms).toEqual(expect.any(Number));
      // Each app's own heap figures, read from its /metrics after the phase.
      for (const app of ['auth-core', 'gateway'])
        expect({ id: row.id, app, heap: row.heapAfterMb?.[app]?.heapTotal }).toEqual({
          id: row.id,
          app,
          heap: expect.any(Number),
        });
    }
    // The kernel's account of auth-core's threads in the login phase (quoted in the login bound).
    const login = results.rows.find((r) => r.id === 'pcl.http.login')!;
    expect(login.threads).toEqual({
      main: { runPct: expect.any(Number), waitPct: expect.any(Number) },
      others: { runPct: expect.any(Number), waitPct: expect.any(Number), threads: expect.any(Number) },
    });
    expect(login.threads!.main.runPct).toBeGreaterThan(0);
    const report = readFileSync(join(out, 'REPORT.md'), 'utf8');
    for (const id of ROWS) expect(report).toContain(id);
    expect(report).toMatch(/\| \*\*(PASS|MISS)\*\* \|/);
  });
});
