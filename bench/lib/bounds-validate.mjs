import { bound, fmt, pct, perReq, shapeVerdict, VERDICT_TEXT } from './target-kit.mjs';

/**
 * Why a missed validation target (HTTP validate, NATS validate of distinct tokens) was missed:
 * appended to its `shortfall`. `out`, `row` and `tp` as in evaluateTargets (targets.mjs).
 */
export function explainValidateMisses({ out, row, tp }) {
  const peerIntro = tp('peer.introspection');
  bound(
    { out, tp },
    'http-validate',
    peerIntro === null ? null : 2 * peerIntro,
    'ceiling.http_nats.get',
    'the gateway’s shape',
  );

  // HTTP validate: the gateway app answering a constant bounds every design served by it.
  {
    const t = out.find((x) => x.id === 'http-validate');
    const live = tp('ceiling.gateway.live');
    const needed = peerIntro === null ? null : 2 * peerIntro;
    if (t && !t.pass && t.shortfall && live !== null && needed)
      t.shortfall += `; the gateway app itself answering a constant (GET /health/live: Nest on Fastify, no NATS, no validation) does ${fmt(live)}/s, ${pct(live / needed)} of the ${fmt(needed)}/s needed${live < needed ? ' — so not even validating tokens inside the gateway could reach it' : ''}`;
  }
  // Distinct tokens: what a responder doing nothing but parse + verify + reply reaches in this run.
  {
    const t = out.find((x) => x.id === 'nats-validate-distinct');
    const es = tp('ceiling.es256.crypto');
    const least = [
      ['inline', tp('ceiling.nats_verify.c64')],
      ['on 1 worker thread', tp('ceiling.nats_verify.workers1.c64')],
      ['on 2 worker threads', tp('ceiling.nats_verify.workers2.c64')],
    ].filter(([, v]) => v !== null);
    if (t && !t.pass && t.shortfall && es && least.length)
      t.shortfall += `; bound: a raw nats.js responder that only parses, verifies (node:crypto) and replies does ${least
        .map(([how, v]) => `${fmt(v)}/s = ${pct(v / es)} ${how}`)
        .join(', ')} in this run — the target asks Portcullis for about what verification alone allows`;
    const leastTurns = [
      ['inline', row('turns.nats_verify.c64')?.turns],
      ['on 2 worker threads', row('turns.nats_verify.workers2.c64')?.turns],
    ].filter(([, x]) => x);
    if (t && !t.pass && t.shortfall && leastTurns.length) {
      const verdicts = leastTurns.map(([how, x]) => [how, shapeVerdict(x, 0.7)]);
      const best = verdicts.some(([, v]) => v.verdict === 'reachable')
        ? 'reachable'
        : verdicts.some(([, v]) => v.verdict === 'at the edge') || verdicts.length < 2
          ? 'at the edge'
          : 'out of reach';
      t.shortfall += `; in turns with the ES256 ceiling, as the target is judged, that responder does ${verdicts
        .map(([how, v]) => `${v.text} ${how}`)
        .join(
          ', ',
        )} — ${VERDICT_TEXT[best]} (a validator answering over NATS${verdicts.length < 2 ? '' : ', inline or with a verify pool'})`;
    }
    // CPU per request of the parts no validator can drop: the load generator and nats-server
    // (from the Portcullis row judged), the ES256 verification (the ceiling's CPU per verify) and
    // the least-work responder's own NATS I/O (its CPU per request minus the verification).
    const judgedRow = [row('pcl.nats.validate.distinct.c64'), row('pcl.nats.validate.distinct.workers2.c64')]
      .filter((r) => r?.throughput)
      .reduce((a, b) => (!a || b.throughput > a.throughput ? b : a), null);
    const leastRow = row('ceiling.nats_verify.c64');
    if (t && !t.pass && t.shortfall && es && judgedRow?.cpuPct && leastRow?.cpuPct) {
      const needed = es * 0.7;
      const budget = (2 / needed) * 1e6;
      const client = perReq(judgedRow, (judgedRow.cpuPct.bench ?? 0) + (judgedRow.cpuPct['nats-server'] ?? 0));
      const verify = 1e6 / es;
      const io = Math.max(0, perReq(leastRow, leastRow.cpuPct['nats-verify'] ?? 0) - verify);
      const left = budget - client - verify - io;
      t.shortfall += `; CPU per request at the ${fmt(needed)}/s needed: the load generator and nats-server ${fmt(client)} µs + the ES256 verification ${fmt(verify)} µs + the least-work responder's NATS I/O ${fmt(io)} µs = ${fmt(client + verify + io)} µs of the ${fmt(budget)} µs the 2 cores have — ${fmt(left)} µs left for everything SPEC §3 asks beyond the signature (claims, revocation and owner state, the reply with the claims, metrics), if the machine were 100 % busy`;
    }
  }
}
