import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a profiled function lives: an npm package, a Portcullis source file, or node itself. */
function bucketOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url;
  const app = /dist\/apps\/[^/]+\/(.+)$/.exec(url);
  if (app) return app[1];
  return url;
}

/**
 * Summarises a V8 .cpuprofile by self time: the hottest functions and the packages/files they
 * belong to, as shares of the sampled non-idle time.
 */
export function summariseProfile(file, top = 15, window = null) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  // `window`: [fromMs, toMs] before the end of the profile (the process exit): only samples
  // taken while the workload ran count, not start-up, fixtures or shutdown.
  let ts = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    ts += prof.timeDeltas?.[i] ?? 0;
    const beforeEndMs = (prof.endTime - ts) / 1000;
    if (window && (beforeEndMs > window[0] || beforeEndMs < window[1])) continue;
    counts.set(prof.samples[i], (counts.get(prof.samples[i]) ?? 0) + 1);
    total++;
  }
  const fn = new Map();
  const pkg = new Map();
  let idle = 0;
  for (const [id, c] of counts) {
    const n = byId.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += c;
      continue;
    }
    const short = url ? url.replace(/^file:\/\//, '').replace(/^.*?(node_modules\/|dist\/)/, '$1') : '';
    const key = `${name} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + c);
    const b = bucketOf(url, name);
    pkg.set(b, (pkg.get(b) ?? 0) + c);
  }
  const busy = total - idle;
  const pct = (c) => Math.round((c / Math.max(1, busy)) * 1000) / 10;
  const sort = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, c]) => ({ name: k, selfPct: pct(c) }));
  const intervalMs = (prof.endTime - prof.startTime) / 1000 / Math.max(1, prof.samples.length);
  return {
    file,
    samples: total,
    busyPct: Math.round((busy / Math.max(1, total)) * 1000) / 10,
    sampleIntervalMs: Math.round(intervalMs * 1000) / 1000,
    topFunctions: sort(fn),
    topPackages: sort(pkg),
  };
}

export function newestProfile(dir, pid) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && (!pid || f.includes(`.${pid}.`)))
    .map((f) => join(dir, f));
  return files.sort().pop() ?? null;
}
