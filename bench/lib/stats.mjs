/** Latency recording and summaries shared by every load generator of the bench. */

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
  const seconds = await phase(durationMs, rec);
  return { ...rec.summary(seconds), ...(rec.lastError ? { lastError: rec.lastError } : {}) };
}

/** Synchronous one-core loop (no event-loop turns between operations). */
export function syncLoop({ durationMs, warmupMs = 0, op }) {
  let i = 0;
  let end = now() + warmupMs;
  while (now() < end) op(i++);
  const rec = new Recorder();
  const start = now();
  end = start + durationMs;
  let t = start;
  while (t < end) {
    op(i++);
    const t2 = now();
    rec.add(t2 - t);
    t = t2;
  }
  return rec.summary((now() - start) / 1000);
}
