import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Child, findPid, freePort, MemoryWatch, watchThreads } from './procs.mjs';
import { NATS_URL, ROOT } from './stack.mjs';
import { watchMeasured } from './window.mjs';

/** HTTP load: autocannon's connections in every HTTP phase (and the logins' users). */
export const HTTP_CONNECTIONS = 32;

export const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

/** Machine CPU busy (% of one core) over `ms`, from /proc/stat. */
export async function machineBusy(ms = 500) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0), t: performance.now() };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return ((b.busy - a.busy) / 100 / ((b.t - a.t) / 1000)) * 100;
}

/**
 * Other sessions may share this machine. Before a phase, wait (up to QUIET_WAIT_MS) for the
 * machine to be quiet; after it, a phase during which more than FOREIGN_LIMIT % of a core went
 * to processes that are not part of the measurement is run again (up to 3 attempts; the
 * quietest is kept, and its foreign share is reported).
 */
const QUIET_LIMIT = 15;
const QUIET_WAIT_MS = 120_000; // none in smoke mode
const FOREIGN_LIMIT = 15;

/**
 * What every phase of one run shares (bench/phases/*.mjs): the options, the rows measured so far,
 * the memory and CPU watch over every tracked process, and the bench servers started on the way.
 */
export class Bench {
  /**
   * `opts`: smoke, measureMs, warmupMs, distinct, revocations, turns, loginTurns, only (see
   * bench/run.mjs, where they are read from the command line).
   */
  constructor(opts) {
    this.opts = opts;
    /** A closed loop's timing in every phase. */
    this.loop = { warmupMs: opts.warmupMs, durationMs: opts.measureMs };
    /** autocannon's options in every HTTP phase. */
    this.httpLoop = { connections: HTTP_CONNECTIONS, warmupMs: opts.warmupMs, durationMs: opts.measureMs };
    this.rows = [];
    this.mem = new MemoryWatch();
    /** Set once the stack runs: the apps' own heap figures, read after each phase. */
    this.heapProbe = null;
    /** Every bench server started (startServer), stopped at the end if the run fails first. */
    this.children = [];
    this.mem.track('bench', process.pid);
    const natsPid = findPid(/nats-server/);
    if (natsPid) this.mem.track('nats-server', natsPid, false);
  }

  async waitQuiet() {
    const smoke = this.opts.smoke;
    const deadline = Date.now() + (smoke ? 0 : QUIET_WAIT_MS);
    let busy = await machineBusy(smoke ? 50 : 500);
    let waited = false;
    while (busy > QUIET_LIMIT && Date.now() < deadline) {
      if (!waited) log(`machine busy (${Math.round(busy)} % of a core) with other work: waiting for quiet …`);
      waited = true;
      await new Promise((r) => setTimeout(r, 1000));
      busy = await machineBusy(500);
    }
    return Math.round(busy);
  }

  /** Whether --only lets row `id` run (also used to skip starting processes no row will use). */
  wanted(id) {
    const only = this.opts.only;
    return !only || only.some((p) => id.startsWith(p));
  }

  /** Runs one measured phase, attaching peak RSS and CPU use of every tracked process to its row. */
  async phase(id, group, name, extra, fn, { retry = true, before, threadsOf } = {}) {
    if (!this.wanted(id)) return null;
    let best = null;
    for (let attempt = 1; attempt <= (retry && !this.opts.smoke ? 3 : 1); attempt++) {
      await before?.();
      const busyBefore = await this.waitQuiet();
      log(`${id} …${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
      const watch = this.mem.begin();
      const threads = threadsOf ? watchThreads(threadsOf()) : null;
      watchMeasured({
        start: () => {
          watch.measuredStart();
          threads?.measuredStart();
        },
        end: () => {
          watch.measuredEnd();
          threads?.measuredEnd();
        },
      });
      let result;
      try {
        result = await fn();
      } catch (err) {
        result = { ops: 0, errors: 1, throughput: 0, p50_ms: null, p99_ms: null, lastError: String(err?.stack ?? err) };
      } finally {
        watchMeasured(null);
      }
      const { rss, cpu } = watch.end();
      const row = {
        id,
        group,
        name,
        ...extra,
        ...result,
        peakRssMb: rss,
        cpuPct: cpu,
        machineBusyBeforePct: busyBefore,
      };
      if (threads) row.threads = threads.end();
      if (this.heapProbe) row.heapAfterMb = await this.heapProbe();
      if (attempt > 1) row.attempts = attempt;
      if (!best || cpu.foreign < best.cpuPct.foreign) best = row;
      if (cpu.foreign <= FOREIGN_LIMIT) break;
      log(`${id}: ${cpu.foreign} % of a core went to other work during the phase`);
    }
    this.rows.push(best);
    const row = best;
    log(
      `${id}: ${row.throughput}/s p50 ${row.p50_ms} ms p99 ${row.p99_ms} ms cpu ${JSON.stringify(row.cpuPct)}` +
        (row.errors ? ` errors ${row.errors}${row.lastError ? ` (${row.lastError.split('\n')[0]})` : ''}` : ''),
    );
    return row;
  }

  /**
   * Starts one of bench/servers as its own process, waits for its "ready" line and tracks its
   * memory and CPU under `name`; stopped with the others at the end if the run fails first.
   */
  async startServer(name, script, args, env) {
    const child = new Child(name, [join(ROOT, 'bench/servers', script), ...args], { cwd: ROOT, env });
    this.children.push(child);
    await new Promise((resolve, reject) => {
      child.proc.stdout.once('data', resolve);
      child.exited.then(() => reject(new Error(`${name} exited: ${child.logs()}`)));
    });
    this.mem.track(name, child.pid);
    return child;
  }

  /** servers/http-nats-forward.mjs in front of `subject`, publishing at turn end as the gateway does. */
  async startForwarder(subject, mode = 'turn-end') {
    const port = await freePort();
    const child = await this.startServer('http-nats-forward', 'http-nats-forward.mjs', [String(port), subject, mode], {
      NATS_URL,
    });
    return {
      url: `http://127.0.0.1:${port}/forward`,
      stop: async () => {
        await child.stop();
        this.mem.untrack('http-nats-forward');
      },
    };
  }

  /**
   * Runs `fn(url)` against a least-work shape: copies of the app's tables (`tables`: [copy, original]),
   * the shape's responder on its own subject (`args(subject)`), the turn-end forwarder in front of it
   * (or `front(subject)`); all of it stopped and dropped after, whatever `fn` does.
   */
  async withShape(stack, { name, script, subjectName, tables, args, env = {}, front }, fn) {
    const pgPool = new pg.Pool({ connectionString: stack.db.url, max: 1 });
    for (const [copy, original] of tables) await pgPool.query(`CREATE TABLE ${copy} (LIKE ${original} INCLUDING ALL)`);
    const subject = stack.subject(subjectName);
    const server = await this.startServer(name, script, args(subject), { NATS_URL, ...env });
    const fwd = await (front ?? ((s) => this.startForwarder(s)))(subject);
    try {
      return await fn(fwd.url);
    } finally {
      await fwd.stop();
      await server.stop();
      this.mem.untrack(name);
      for (const [copy] of tables) await pgPool.query(`DROP TABLE ${copy}`);
      await pgPool.end();
    }
  }

  /** Stops every bench server still running (the end of the run, or a failure on the way). */
  async stopChildren() {
    await Promise.all(this.children.map((c) => c.stop().catch(() => undefined)));
  }
}
