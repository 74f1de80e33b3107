import { explainIssuingMisses } from './bounds-issuing.mjs';
import { explainValidateMisses } from './bounds-validate.mjs';
import { fmt, pct } from './target-kit.mjs';

export { shapeVerdict } from './target-kit.mjs';

/** Published figures printed beside the table for context (not measured here). */
export const ANCHORS = [
  { system: 'Keycloak', figure: 'client_credentials', value: '120 /s per vCPU', source: 'Keycloak sizing guide' },
  { system: 'Keycloak', figure: 'password logins', value: '15 /s per vCPU', source: 'Keycloak sizing guide' },
  { system: 'Keycloak', figure: 'memory', value: '1250 MB per pod', source: 'Keycloak sizing guide' },
  { system: 'Ory Hydra', figure: 'introspections', value: '5,109 /s on 2 CPUs', source: 'Ory Hydra benchmarks' },
  { system: 'Ory Hydra', figure: 'client_credentials', value: '513 /s on 2 CPUs', source: 'Ory Hydra benchmarks' },
];

/**
 * The targets of issue #9, judged on the rows of one run. `profile` names the workload the
 * bench re-runs under --cpu-prof when the target is missed.
 */
export function evaluateTargets(rows) {
  const row = (id) => rows.find((r) => r.id === id);
  const tp = (id) => row(id)?.throughput ?? null;
  // Where the row was also taken in turns with its ceiling (`turnsId`, stats.mjs inTurns), the
  // median ratio of those rounds is judged: two phases a minute apart also measure the machine's
  // drift. The ratio of the separate phases is shown beside it.
  const ratioTarget = (id, text, num, den, min, profile, denName, turnsId) => {
    const a = tp(num);
    const b = tp(den);
    const separate = a !== null && b ? a / b : null;
    const turns = turnsId ? row(turnsId)?.turns : null;
    const ratio = turns?.medianRatio ?? separate;
    const pass = ratio !== null && ratio >= min;
    const separateText = separate === null ? 'n/a' : `${fmt(a)}/s ÷ ${fmt(b)}/s = ${pct(separate)}`;
    return {
      id,
      text,
      measured: ratio,
      threshold: min,
      pass,
      measuredText: turns
        ? `${pct(turns.medianRatio)}: median of ${turns.rounds} rounds in turns with ${denName} (${pct(Math.min(...turns.ratios))}–${pct(Math.max(...turns.ratios))}); separate phases ${separateText}`
        : separateText,
      targetText: `≥ ${pct(min)} of ${denName}`,
      shortfall:
        pass || ratio === null
          ? null
          : turns
            ? `${pct(min - ratio)} points short (median in turns)`
            : `${pct(min - ratio)} points short; needs ${fmt(b * min)}/s, ${pct((b * min) / a - 1)} more`,
      profile,
    };
  };
  // Judged on the better of the two replica configurations measured: the shipped default
  // (validations on the main thread) and VERIFY_WORKERS=2 (served by 2 worker threads, for a replica
  // with 2+ CPUs); both are shown.
  const distinctTarget = () => {
    const judged = [
      ['inline', 'pcl.nats.validate.distinct.c64', 'turns.nats.validate.distinct.c64'],
      ['VERIFY_WORKERS=2', 'pcl.nats.validate.distinct.workers2.c64', 'turns.nats.validate.distinct.workers2.c64'],
    ].map(([how, num, turnsId]) => ({
      how,
      t: ratioTarget(
        'nats-validate-distinct',
        'NATS validate, 10,000 distinct tokens (64 in flight) ≥ 70 % of raw node:crypto ES256 verify on one core',
        num,
        'ceiling.es256.crypto',
        0.7,
        'nats-validate-distinct',
        'node:crypto ES256',
        turnsId,
      ),
    }));
    const measured = judged.filter((j) => j.t.measured !== null);
    if (measured.length < 2) return judged[0].t;
    const best = measured.reduce((a, b) => (b.t.measured > a.t.measured ? b : a));
    const other = measured.find((j) => j !== best);
    return {
      ...best.t,
      measuredText: `${best.t.measuredText} (${best.how}; ${other.how}: ${pct(other.t.measured)})`,
    };
  };
  const out = [
    ratioTarget(
      'nats-validate-same',
      'NATS validate, same token, 64 in flight ≥ 80 % of raw nats.js request/reply (64 in flight)',
      'pcl.nats.validate.same.c64',
      'ceiling.nats.c64',
      0.8,
      'nats-validate-same',
      'raw nats.js',
      'turns.nats.validate.same.c64',
    ),
    distinctTarget(),
    ratioTarget(
      'http-validate',
      'HTTP validate ≥ 2× the peer’s introspection throughput',
      'pcl.http.validate',
      'peer.introspection',
      2,
      'http-validate',
      'oidc-provider introspection',
      'turns.http.validate',
    ),
  ];
  {
    const a = tp('pcl.http.client_credentials');
    const b = tp('peer.client_credentials');
    const separate = a !== null && b ? a / b : null;
    // Judged in turns with the peer where taken (as the other ratio targets), the floor on the
    // separate phase.
    const turns = row('turns.http.client_credentials')?.turns;
    const ratio = turns?.medianRatio ?? separate;
    const pass = ratio !== null && ratio >= 1 && a >= 1000;
    const separateText = separate === null ? 'n/a' : `${fmt(a)}/s ÷ ${fmt(b)}/s = ${pct(separate)}`;
    out.push({
      id: 'client-credentials',
      text: 'client_credentials (token recorded in PostgreSQL) ≥ 1× the peer’s in-memory client_credentials and ≥ 1,000/s',
      measured: ratio,
      threshold: 1,
      absolute: a,
      pass,
      measuredText: turns
        ? `${pct(turns.medianRatio)}: median of ${turns.rounds} rounds in turns with oidc-provider (${pct(Math.min(...turns.ratios))}–${pct(Math.max(...turns.ratios))}); separate phases ${separateText}`
        : separateText,
      targetText: '≥ 100 % of oidc-provider and ≥ 1,000/s',
      shortfall:
        pass || ratio === null
          ? null
          : [
              ratio < 1 ? `${pct(1 - ratio)} below the peer${turns ? ' (median in turns)' : ''}` : null,
              a < 1000 ? `${fmt(1000 - a)}/s below 1,000/s` : null,
            ]
              .filter(Boolean)
              .join('; '),
      profile: 'client-credentials',
    });
  }
  out.push(
    ratioTarget(
      'password-login',
      'password login ≥ 85 % of the raw argon2id verify ceiling on 2 cores',
      'pcl.http.login',
      'ceiling.argon2.2cores',
      0.85,
      'password-login',
      'argon2id on 2 cores',
      'turns.http.login',
    ),
  );
  {
    const r = row('pcl.revocation');
    const p99 = r?.p99_ms ?? null;
    const pass = p99 !== null && r.ops > 0 && p99 <= 100;
    out.push({
      id: 'revocation-p99',
      text: 'revocation propagation p99 ≤ 100 ms',
      measured: p99,
      threshold: 100,
      pass,
      measuredText: p99 === null ? 'n/a' : `p50 ${fmt(r.p50_ms)} ms, p99 ${fmt(p99)} ms over ${r.ops}`,
      targetText: 'p99 ≤ 100 ms',
      shortfall: pass || p99 === null ? null : `${fmt(p99 - 100)} ms over`,
      profile: null,
    });
  }
  {
    const m = row('pcl.memory.load')?.rssMb ?? {};
    const worst = Object.entries(m).sort((a, b) => b[1] - a[1])[0];
    const pass = !!worst && worst[1] <= 200;
    out.push({
      id: 'rss-under-load',
      text: 'RSS per app under load ≤ 200 MB',
      measured: worst?.[1] ?? null,
      threshold: 200,
      pass,
      measuredText: Object.entries(m)
        .map(([k, v]) => `${k} ${fmt(v)} MB`)
        .join(', '),
      targetText: '≤ 200 MB each',
      shortfall: pass || !worst ? null : `${worst[0]} ${fmt(worst[1] - 200)} MB over`,
      profile: null,
    });
  }
  // Why a missed target was missed, appended to its shortfall: the bounds the same run measured.
  explainValidateMisses({ out, row, tp });
  explainIssuingMisses({ out, row, tp });
  return out;
}
