/** What targets.mjs and the explanations of its misses (bounds-*.mjs) share: formats, verdicts, the shape bound. */

export const pct = (v) => `${Math.round(v * 1000) / 10} %`;
export const fmt = (v) =>
  v === null || v === undefined ? 'n/a' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * What a least-work shape taken in turns (stats.mjs inTurns) says about a ratio target: its median
 * and spread, in how many rounds it reached `min`, and a verdict. Out of reach only when the median
 * misses and at most a quarter of the rounds reach it; a median just short with more rounds over
 * the line is "at the edge", since the rounds of one run spread by ±10 points or more.
 */
export function shapeVerdict(turns, min) {
  const reached = turns.ratios.filter((r) => r >= min).length;
  const verdict =
    turns.medianRatio >= min ? 'reachable' : reached <= turns.ratios.length / 4 ? 'out of reach' : 'at the edge';
  return {
    verdict,
    text: `${pct(turns.medianRatio)} (median of ${turns.rounds} rounds in turns, ${pct(Math.min(...turns.ratios))}–${pct(Math.max(...turns.ratios))}; ${reached} of ${turns.ratios.length} rounds at ${pct(min)} or more)`,
  };
}
export const VERDICT_TEXT = {
  reachable: 'reachable in principle: the gap is what Portcullis does beyond the shape',
  'at the edge': 'at the edge: on this machine even the least work of the shape only about reaches the target',
  'out of reach': 'out of reach on this machine for any design of this shape',
};

export const CHOSEN_STACK_TEXT = {
  reachable: 'reachable in the chosen stack: the gap is what Portcullis does beyond that least work',
  'at the edge': 'at the edge: even the chosen stack’s least work only about reaches the target on this machine',
  'out of reach': 'out of reach on this machine for anything built in the chosen stack with this shape',
};

/** µs of CPU per request that `pctValue` % of a core is at row `r`'s rate. */
export const perReq = (r, pctValue) => (r?.throughput ? (pctValue / 100 / r.throughput) * 1e6 : null);

/**
 * Where the target asks for more than the architecture's own ceiling (HTTP in, one NATS round
 * trip, HTTP out; SPEC §1 puts auth-core behind NATS) measured in the same run, say so.
 * `out` and `tp` as in evaluateTargets (targets.mjs).
 */
export const bound = ({ out, tp }, id, needed, ceilingId, shape) => {
  const t = out.find((x) => x.id === id);
  const c = tp(ceilingId);
  if (!t || t.pass || needed === null || c === null || !t.shortfall) return;
  const reach = c / needed;
  t.shortfall +=
    reach < 1
      ? `; bound: ${shape} alone (Fastify + a no-op NATS responder, no Portcullis code) does ${fmt(c)}/s in this run, ${pct(reach)} of the ${fmt(needed)}/s needed — out of reach for any gateway→NATS→auth-core design`
      : `; ${shape} alone (Fastify + a no-op NATS responder) does ${fmt(c)}/s in this run`;
};
