import autocannon from 'autocannon';
import { round } from './stats.mjs';
import { measuredEnd, measuredStart } from './window.mjs';

/**
 * HTTP load with autocannon (closed loop, `connections` connections, one request in flight on
 * each). A short discarded warm-up run precedes the measured one. Only 2xx answers count as
 * operations; anything else is an error. Latencies come from autocannon's histogram (1 ms
 * resolution).
 */
export async function cannon({ url, connections = 32, durationMs, warmupMs = 0, drainMs = 250, ...opts }) {
  const run = (ms) =>
    new Promise((resolve, reject) => {
      autocannon({ url, connections, pipelining: 1, duration: ms / 1000, timeout: 10, ...opts }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  if (warmupMs > 0) {
    await run(warmupMs);
    // The warm-up stops with a request in flight on every connection; let the server finish them
    // so the measured run does not start behind a queue of abandoned work.
    await new Promise((r) => setTimeout(r, drainMs));
  }
  measuredStart();
  const r = await run(durationMs).finally(measuredEnd);
  const seconds = r.duration;
  const ok = r['2xx'];
  const errors = r.non2xx + r.errors + r.timeouts;
  return {
    ops: ok,
    errors,
    seconds: round(seconds, 3),
    throughput: round(ok / seconds, 1),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    connections,
    ...(r.non2xx ? { statusCodes: r.statusCodeStats } : {}),
  };
}
