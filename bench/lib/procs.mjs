import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A child process whose output is kept for diagnostics. */
export class Child {
  constructor(name, args, { env = {}, cwd, nodeArgs = [] } = {}) {
    this.name = name;
    this.output = [];
    this.proc = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => {
      this.output.push(d.toString());
      if (this.output.length > 400) this.output.splice(0, 200);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    this.exitCode = undefined;
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exitedAt = performance.now();
        resolve((this.exitCode = code ?? signal));
      }),
    );
  }

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return this.exitCode === undefined;
  }

  logs() {
    return this.output.join('');
  }

  async stop(signal = 'SIGTERM', timeoutMs = 10000) {
    if (!this.running) return this.exitCode;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function waitForHttp(url, child, timeoutMs = 30000, ok = (s) => s === 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && !child.running) throw new Error(`${child.name} exited during start:\n${child.logs()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (ok(res.status)) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child?.name ?? url} not ready at ${url} after ${timeoutMs} ms:\n${child?.logs() ?? ''}`);
}

const MB = 1024 * 1024;

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return null;
  }
}

/**
 * Peak RSS per process over a phase. For processes the bench started (and itself) the kernel's
 * high-water mark is reset at the start of the phase (`/proc/PID/clear_refs` = 5) and read at
 * the end; every process is also sampled every 50 ms, which is all that is done for processes
 * the bench did not start (nats-server).
 */
export class MemoryWatch {
  constructor() {
    this.procs = new Map(); // name -> { pid, own }
  }

  track(name, pid, own = true) {
    this.procs.set(name, { pid, own });
  }

  untrack(name) {
    this.procs.delete(name);
  }

  rssMb(name) {
    const p = this.procs.get(name);
    const s = p && status(p.pid);
    return s ? Math.round((s.rss / MB) * 10) / 10 : null;
  }

  snapshot() {
    const out = {};
    for (const name of this.procs.keys()) out[name] = this.rssMb(name);
    return out;
  }

  /**
   * Starts watching. `end()` stops and gives, per process, the peak RSS (MB) over the whole phase
   * and the CPU used (% of one core), plus the machine's CPU use split into the bench's own
   * processes, PostgreSQL, nats-server and everything else ("foreign": other work on the
   * machine, which skews the numbers of the phase). CPU use is taken over the stretches marked
   * with `measuredStart()`/`measuredEnd()` (window.mjs) when there were any, else over the phase.
   */
  begin() {
    const peaks = new Map();
    for (const [name, p] of this.procs) {
      if (p.own) {
        try {
          writeFileSync(`/proc/${p.pid}/clear_refs`, '5');
        } catch {
          /* not resettable: sampling still applies */
        }
      }
      peaks.set(name, 0);
    }
    const sample = () => {
      for (const [name, p] of this.procs) {
        const s = status(p.pid);
        if (s) peaks.set(name, Math.max(peaks.get(name) ?? 0, s.rss));
      }
    };
    sample();
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    const timer = setInterval(sample, 50);
    const measured = { ticks: emptyTicks(), seconds: 0, open: null };
    return {
      measuredStart: () => {
        measured.open ??= { snap: cpuSnapshot(), t: performance.now() };
      },
      measuredEnd: () => {
        if (!measured.open) return;
        addTicks(measured.ticks, cpuTicks(measured.open.snap, cpuSnapshot()));
        measured.seconds += (performance.now() - measured.open.t) / 1000;
        measured.open = null;
      },
      end: () => {
        clearInterval(timer);
        sample();
        const whole = cpuTicks(cpu0, cpuSnapshot());
        const seconds = (performance.now() - t0) / 1000;
        const rss = {};
        for (const [name, p] of this.procs) {
          let peak = peaks.get(name) ?? 0;
          if (p.own) {
            const s = status(p.pid);
            if (s && Number.isFinite(s.hwm)) peak = Math.max(peak, s.hwm);
          }
          rss[name] = peak ? Math.round((peak / MB) * 10) / 10 : null;
        }
        const cpu = measured.seconds > 0 ? this.cpuUse(measured.ticks, measured.seconds) : this.cpuUse(whole, seconds);
        return { rss, cpu };
      },
    };
  }

  cpuUse(ticks, seconds) {
    const pctOf = (t) => Math.round((t / TICKS / Math.max(seconds, 1e-3)) * 1000) / 10;
    const out = {};
    const mine = new Set();
    for (const [name, p] of this.procs) {
      mine.add(p.pid);
      out[name] = pctOf(Math.max(0, ticks.procs.get(p.pid)?.ticks ?? 0));
    }
    let postgres = 0;
    for (const [pid, info] of ticks.procs)
      if (info.comm === 'postgres' && !mine.has(pid)) postgres += Math.max(0, info.ticks);
    out.postgres = pctOf(postgres);
    const accounted = Object.values(out).reduce((x, y) => x + y, 0);
    out.machine = pctOf(ticks.busy);
    out.foreign = Math.max(0, Math.round((out.machine - accounted) * 10) / 10);
    return out;
  }
}

const emptyTicks = () => ({ procs: new Map(), busy: 0 });

/**
 * CPU ticks from snapshot `a` to `b`: the machine's busy ticks, and each process's. A process not
 * in `a` counts from zero only if it is a PostgreSQL backend: a pg pool drops connections idle for
 * 10 s (pg-pool's default, the app's too), so a phase after a quiet spell forks new backends, and
 * counting their work as 0 would pass PostgreSQL's work off as foreign. Any other newcomer counts 0.
 */
function cpuTicks(a, b) {
  const procs = new Map();
  for (const [pid, info] of b.procs) {
    const was = a.procs.get(pid)?.ticks ?? (info.comm === 'postgres' ? 0 : info.ticks);
    procs.set(pid, { comm: info.comm, ticks: info.ticks - was });
  }
  return { procs, busy: b.busy - a.busy };
}

function addTicks(into, more) {
  into.busy += more.busy;
  for (const [pid, info] of more.procs) {
    const had = into.procs.get(pid);
    into.procs.set(pid, { comm: info.comm, ticks: (had?.ticks ?? 0) + info.ticks });
  }
}

const TICKS = 100; // USER_HZ on Linux

function cpuSnapshot() {
  const procs = new Map();
  let busy = 0;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    busy = line[0] + line[1] + line[2] + line[5] + line[6] + (line[7] ?? 0);
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close);
        const f = stat.slice(close + 2).split(' ');
        procs.set(Number(d), { comm, ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no /proc */
  }
  return { procs, busy };
}

export function findPid(pattern) {
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (pattern.test(cmd)) return Number(d);
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no /proc */
  }
  return null;
}

/**
 * Scheduler accounting of one process's threads (/proc/PID/task/TID/schedstat: time on a CPU, and
 * time runnable but waiting for one), over the measured stretches of the phase (window.mjs; the
 * whole phase if none was marked): the main thread's share of the elapsed time, and the sum over
 * all its other threads (% of one core).
 */
export function watchThreads(pid) {
  const read = () => {
    const out = new Map();
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return out;
    }
    for (const tid of tids) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        out.set(Number(tid), { run, wait });
      } catch {
        /* the thread ended */
      }
    }
    return out;
  };
  const main = { run: 0, wait: 0 };
  const rest = { run: 0, wait: 0 };
  let threads = 0;
  let elapsed = 0;
  let open = null;
  const start = () => {
    open ??= { before: read(), t0: process.hrtime.bigint() };
  };
  const stop = () => {
    if (!open) return;
    const after = read();
    elapsed += Number(process.hrtime.bigint() - open.t0);
    for (const [tid, now] of after) {
      const was = open.before.get(tid) ?? { run: 0, wait: 0 };
      const into = tid === pid ? main : rest;
      into.run += now.run - was.run;
      into.wait += now.wait - was.wait;
    }
    threads = after.size - 1;
    open = null;
  };
  const whole = { before: read(), t0: process.hrtime.bigint() };
  return {
    measuredStart: start,
    measuredEnd: stop,
    end: () => {
      if (elapsed === 0) {
        open = whole;
        stop();
      }
      const share = (ns) => Math.round((ns / elapsed) * 1000) / 10;
      return {
        main: { runPct: share(main.run), waitPct: share(main.wait) },
        others: { runPct: share(rest.run), waitPct: share(rest.wait), threads },
      };
    },
  };
}
