/** Latency recording and summaries shared by every load generator of the bench. */
import { measuredEnd, measuredStart } from './window.mjs';

export class Recorder {
  constructor(initial = 1 << 16) {
    this.buf = new Float64Array(initial);
    this.n = 0;
    this.errors = 0;
  }

  /** One completed operation that took `ms` milliseconds. */
  add(ms) {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = ms;
  }

  percentile(p) {
    if (this.n === 0) return null;
    const sorted = this.sorted ?? (this.sorted = this.buf.slice(0, this.n).sort());
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[idx];
  }

  summary(seconds) {
    return {
      ops: this.n,
      errors: this.errors,
      seconds: round(seconds, 3),
      throughput: round(this.n / seconds, 1),
      p50_ms: round(this.percentile(50), 3),
      p99_ms: round(this.percentile(99), 3),
    };
  }
}

export function round(v, digits = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return v ?? null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export const now = () => performance.now();

/**
 * Closed-loop load: `concurrency` workers each call `op(i)` back to back. A warm-up period is
 * run and discarded, then operations are recorded for `durationMs` (or until `maxOps`).
 * `op` returns a promise (or a value for synchronous work) and throws on failure.
 */
export async function closedLoop({ concurrency, durationMs, warmupMs = 0, maxOps = Infinity, op }) {
  let i = 0;
  const phase = async (ms, rec) => {
    const end = now() + ms;
    let started = 0;
    const worker = async () => {
      while (now() < end && (!rec || started++ < maxOps)) {
        const t = now();
        try {
          await op(i++);
          rec?.add(now() - t);
        } catch (err) {
          if (rec) {
            rec.errors++;
            rec.lastError ??= String(err?.message ?? err);
          }
        }
      }
    };
    const start = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (now() - start) / 1000;
  };
  if (warmupMs > 0) await phase(warmupMs, null);
  const rec = new Recorder();
  measuredStart();
  const seconds = await phase(durationMs, rec).finally(measuredEnd);
  return { ...rec.summary(seconds), ...(rec.lastError ? { lastError: rec.lastError } : {}) };
}

/** Synchronous one-core loop (no event-loop turns between operations). */
export function syncLoop({ durationMs, warmupMs = 0, op }) {
  let i = 0;
  let end = now() + warmupMs;
  while (now() < end) op(i++);
  const rec = new Recorder();
  measuredStart();
  const start = now();
  end = start + durationMs;
  let t = start;
  while (t < end) {
    op(i++);
    const t2 = now();
    rec.add(t2 - t);
    t = t2;
  }
  measuredEnd();
  return rec.summary((now() - start) / 1000);
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Two loads taken in turns in short slices (A B, B A, A B, …), each round giving the ratio B/A.
 * This machine is shared and its speed drifts by tens of percent within a minute, so the ratio of
 * two phases measured a minute apart says as much about the drift as about either side; two
 * slices next to each other see nearly the same machine, and the median over the rounds is what
 * to judge. `a` and `b` are `(durationMs) => summary` (closedLoop or syncLoop runs).
 */
export async function inTurns({ rounds, sliceMs, a, b }) {
  const taken = [];
  for (let r = 0; r < rounds; r++) {
    const got = {};
    for (const side of r % 2 ? ['b', 'a'] : ['a', 'b']) got[side] = await (side === 'a' ? a : b)(sliceMs);
    taken.push(got);
  }
  const ratios = taken.map((t) => (t.a.throughput ? t.b.throughput / t.a.throughput : 0));
  const sum = (side, k) => taken.reduce((n, t) => n + t[side][k], 0);
  const total = (side) => ({
    ops: sum(side, 'ops'),
    errors: sum(side, 'errors'),
    seconds: round(sum(side, 'seconds'), 3),
    throughput: round(sum(side, 'ops') / sum(side, 'seconds'), 1),
  });
  return {
    ...total('b'),
    p50_ms: round(median(taken.map((t) => t.b.p50_ms)), 3),
    p99_ms: round(median(taken.map((t) => t.b.p99_ms)), 3),
    turns: {
      rounds,
      sliceMs,
      a: total('a'),
      aPerRound: taken.map((t) => t.a.throughput),
      bPerRound: taken.map((t) => t.b.throughput),
      ratios: ratios.map((x) => round(x, 4)),
      medianRatio: round(median(ratios), 4),
    },
  };
}
