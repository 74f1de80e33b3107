import { bound, CHOSEN_STACK_TEXT, fmt, pct, perReq, shapeVerdict, VERDICT_TEXT } from './target-kit.mjs';

/**
 * Why a missed token-issuing target (client_credentials, password login) was missed: appended to
 * its `shortfall`. `out`, `row` and `tp` as in evaluateTargets (targets.mjs).
 */
export function explainIssuingMisses({ out, row, tp }) {
  const peerCc = tp('peer.client_credentials');
  /** The client_credentials rate the target asks for: the peer's, and at least 1,000/s. */
  const ccNeeded = peerCc === null ? null : Math.max(peerCc, 1000);
  /** µs of CPU the 2 cores have per token at that rate. */
  const ccBudget = ccNeeded ? (2 / ccNeeded) * 1e6 : null;
  bound({ out, tp }, 'client-credentials', ccNeeded, 'ceiling.http_nats.form', 'the gateway’s shape with a form POST');

  // client_credentials: machine CPU per request of the parts no design can drop — the HTTP→NATS
  // hop (the form shape's whole-machine CPU per request) and PostgreSQL's CPU per recorded token
  // at best (token + audit rows in full group-commit batches, ceiling.pg.token_batch; the
  // Portcullis phase's own share, with its smaller batches and the client check, shown beside
  // it) — against the CPU the rate needs, and what both apps spent per token in this run.
  {
    const t = out.find((x) => x.id === 'client-credentials');
    const shape = row('ceiling.http_nats.form');
    const cc = row('pcl.http.client_credentials');
    const hop = perReq(shape, shape?.cpuPct?.machine ?? 0);
    const phasePg = perReq(cc, cc?.cpuPct?.postgres ?? 0);
    const batch = row('ceiling.pg.token_batch');
    const batchPg = batch?.throughput
      ? perReq({ throughput: batch.throughput * batch.tokensPerOp }, batch.cpuPct?.postgres ?? 0)
      : null;
    const pgCost = batchPg ?? phasePg;
    if (t && !t.pass && t.shortfall && ccNeeded && hop !== null && pgCost !== null) {
      const share = (hop + pgCost) / ccBudget;
      const apps = perReq(cc, (cc.cpuPct?.['auth-core'] ?? 0) + (cc.cpuPct?.gateway ?? 0));
      const appsShape =
        perReq(shape, shape.cpuPct?.machine ?? 0) -
        perReq(shape, shape.cpuPct?.bench ?? 0) -
        perReq(shape, shape.cpuPct?.['nats-server'] ?? 0);
      t.shortfall += `; CPU per token: the HTTP→NATS hop alone ${fmt(hop)} µs (whole machine, form shape) + PostgreSQL recording it at best ${fmt(pgCost)} µs (${batchPg === null ? 'this run’s Portcullis phase' : `full batches of ${batch.tokensPerOp}; ${fmt(phasePg)} µs per token in this run’s Portcullis phase, smaller batches and the check that the client row is unchanged`}) = ${fmt(hop + pgCost)} µs, ${pct(share)} of the ${fmt(ccBudget)} µs the 2 cores have per token at ${fmt(ccNeeded)}/s${
        share >= 1
          ? ' — more than the 2 cores have, before any client is authenticated or any token signed'
          : ` — ${fmt(ccBudget - hop - pgCost)} µs per token left for everything the two apps do beyond the shape (Nest, input checks, authenticating the client, signing, the answer); the gateway and auth-core spent ${fmt(apps)} µs per token in this run, the shape’s two processes ${fmt(appsShape)} µs. Not shown unreachable, and far from reached`
      }`;
    }
  }
  // client_credentials split between the two apps: the chosen stack's least work for the same
  // request (Nest gateway + Nest NATS microservice answering a constant), and each real app with
  // that least-work stand-in on the other side. The lower of the two is what bounds the row.
  {
    const t = out.find((x) => x.id === 'client-credentials');
    const least = tp('ceiling.nest_shape.form');
    const gwAlone = tp('pcl.http.client_credentials.gateway_alone');
    const coreAlone = tp('pcl.http.client_credentials.core_alone');
    const both = tp('pcl.http.client_credentials');
    const parts = [];
    if (least)
      parts.push(
        `the chosen stack's least work for this request (ceiling.nest_shape.form: Nest on Fastify with ValidationPipe, one NATS request to a Nest NATS microservice answering a constant) does ${fmt(least)}/s${peerCc ? ` = ${pct(least / peerCc)} of the peer` : ''}${ccNeeded && least < ccNeeded ? `, short of the ${fmt(ccNeeded)}/s ccNeeded with no Portcullis code at all` : ''}`,
      );
    if (gwAlone && coreAlone) {
      const gatewayBounds = gwAlone < coreAlone;
      const close = Math.min(gwAlone, coreAlone) / Math.max(gwAlone, coreAlone) >= 0.9;
      parts.push(
        `the real gateway in front of a constant-answer core does ${fmt(gwAlone)}/s, a least-work gateway in front of the real auth-core ${fmt(coreAlone)}/s${both ? ` (both real apps together ${fmt(both)}/s)` : ''}: ${
          close
            ? 'the two apps bound the row about equally'
            : gatewayBounds
              ? `what bounds the row is the gateway's handling (${pct(gwAlone / coreAlone)} of what auth-core alone allows), not auth-core`
              : `what bounds the row is auth-core's handling and recording (${pct(coreAlone / gwAlone)} of what the gateway alone allows), not the gateway`
        }`,
      );
    }
    if (t && !t.pass && t.shortfall && parts.length) t.shortfall += `; split: ${parts.join('; ')}`;
  }
  // client_credentials against the least work of SPEC's shape (servers/nats-record.mjs behind
  // servers/http-nats-forward.mjs: sign, record token + audit row group-committed, answer), taken
  // in turns with the peer like the row itself. Every conforming design does at least that work,
  // so the shape's verdict (shapeVerdict) is the target's reachability on this machine.
  {
    const t = out.find((x) => x.id === 'client-credentials');
    const shape = row('turns.durable_shape.form')?.turns;
    const pclTurns = row('turns.http.client_credentials')?.turns;
    if (t && !t.pass && t.shortfall && shape) {
      const v = shapeVerdict(shape, 1);
      t.shortfall += `; bound: the least work of SPEC's shape for this request (ceiling.durable_shape.form: Fastify, one nats.js request, a raw responder that signs the JWT and records the token and its audit row in PostgreSQL, group-committed, before answering; no Nest, input checks or client lookup) does ${v.text} of the peer — ${VERDICT_TEXT[v.verdict]} (recording the token before answering, through an HTTP gateway and auth-core over NATS)${pclTurns ? `; Portcullis does about ${pct(pclTurns.medianRatio / shape.medianRatio)} of that shape` : ''}`;
    }
    // The same shape in the stack the project fixes (Nest gateway with ValidationPipe, Nest NATS
    // microservice with class-validator): what any Portcullis, however written, does at least.
    const nest = row('turns.nest_durable_shape.form')?.turns;
    if (t && !t.pass && t.shortfall && nest) {
      const v = shapeVerdict(nest, 1);
      t.shortfall += `; in the chosen stack: its least work of the shape (ceiling.nest_durable_shape.form: the Nest gateway and Nest NATS microservice of ceiling.nest_shape.form, the core signing and recording each token group-committed before answering; no client lookup, metrics or logging) does ${v.text} of the peer — ${CHOSEN_STACK_TEXT[v.verdict]}${pclTurns ? `; Portcullis does about ${pct(pclTurns.medianRatio / nest.medianRatio)} of it` : ''}`;
    }
    // Whole-machine CPU per token of each durable shape, and of Portcullis, at the rate each
    // reached, against what the 2 cores have per token at the peer's rate: over that budget, a
    // design could not reach the peer even with the machine fully busy, unless its cost per token
    // fell at a higher rate (bigger batches do lower it, so this is a sign, not a proof).
    const cpuOf = (id) => (row(id)?.cpuPct?.machine ? perReq(row(id), row(id).cpuPct.machine) : null);
    const costs = [
      ['the raw shape', cpuOf('ceiling.durable_shape.form')],
      ['the chosen-stack shape', cpuOf('ceiling.nest_durable_shape.form')],
      ['Portcullis', cpuOf('pcl.http.client_credentials')],
    ].filter(([, v]) => v !== null);
    if (t && !t.pass && t.shortfall && ccNeeded && costs.length) {
      t.shortfall += `; whole-machine CPU per token, each at the rate it reached alone: ${costs
        .map(([name, v]) => `${name} ${fmt(v)} µs (${pct(v / ccBudget)})`)
        .join(
          ', ',
        )} of the ${fmt(ccBudget)} µs the 2 cores have per token at ${fmt(ccNeeded)}/s — above 100 %, a design cannot reach the peer even with the machine fully busy unless its cost per token falls at a higher rate`;
    }
  }
  // Password login: argon2's CPU per hash (the 2-core ceiling) plus what every other process of
  // the login used per login (the Portcullis phase, auth-core itself not counted) against 2 cores.
  {
    const t = out.find((x) => x.id === 'password-login');
    const ceiling = row('ceiling.argon2.2cores');
    const login = row('pcl.http.login');
    const needed = ceiling?.throughput ? ceiling.throughput * 0.85 : null;
    if (t && !t.pass && t.shortfall && needed && login?.throughput && ceiling.cpuPct?.machine) {
      const hashMs = (ceiling.cpuPct.machine / 100 / ceiling.throughput) * 1000;
      const others = ['gateway', 'nats-server', 'postgres', 'bench'].reduce(
        (sum, k) => sum + (login.cpuPct?.[k] ?? 0),
        0,
      );
      const othersMs = (Math.max(0, others) / 100 / login.throughput) * 1000;
      const share = ((hashMs + othersMs) * needed) / 1000 / 2;
      t.shortfall += `; CPU per login: argon2id ${fmt(hashMs)} ms (the 2-core ceiling's CPU per hash) + ${fmt(othersMs)} ms in the gateway, NATS, PostgreSQL and the load generator (this run's login phase) — at ${fmt(needed)}/s that is ${pct(share)} of the 2 cores${share >= 1 ? ' before auth-core does anything but hash' : `, leaving ${fmt(((2 - ((hashMs + othersMs) * needed) / 1000) / needed) * 1000)} ms per login for auth-core's own work`}`;
      // The gateway's part, set beside its CPU per login with no hash running (a constant-answer
      // core behind a second gateway): how much of it the busy machine adds.
      const alone = row('pcl.http.login.gateway_alone');
      const aloneCpu = alone?.cpuPct?.['gateway#2'];
      if (alone?.throughput && aloneCpu && login.cpuPct?.gateway)
        t.shortfall += `; of that, the gateway ${fmt((login.cpuPct.gateway / 100 / login.throughput) * 1000)} ms, against ${fmt((aloneCpu / 100 / alone.throughput) * 1000)} ms per login when only the gateway is loaded (pcl.http.login.gateway_alone, ${fmt(alone.throughput)}/s, no hash running)`;
      // The kernel's own account of auth-core's threads in that phase: whether the hashes got the
      // CPU they were ready to use while the machine still had some.
      const th = login.threads;
      if (th && login.cpuPct.machine < 190)
        t.shortfall += `; and the 2 cores were not full: the machine was ${fmt(login.cpuPct.machine)} % busy of 200 % in that phase, while auth-core's threads other than its main one (where the hashes run) were on a CPU ${fmt(th.others.runPct)} % and runnable but waiting for one ${fmt(th.others.waitPct)} % (summed over its ${th.others.threads} threads; main thread ${fmt(th.main.runPct)} % and ${fmt(th.main.waitPct)} %; /proc schedstat), where the argon2 ceiling's two threads keep the machine ${fmt(ceiling.cpuPct.machine)} % busy`;
    }
  }
  // Password login against the least work of SPEC's shape (servers/nats-login.mjs behind the
  // forwarder: read the user, argon2id, sign, record the session), in turns with the argon2
  // ceiling like the login row itself.
  {
    const t = out.find((x) => x.id === 'password-login');
    const shape = row('turns.login_shape')?.turns;
    const pclTurns = row('turns.http.login')?.turns;
    if (t && !t.pass && t.shortfall && shape) {
      const v = shapeVerdict(shape, 0.85);
      t.shortfall += `; bound: the least work of SPEC's shape for a login (ceiling.login_shape: Fastify, one nats.js request, a raw responder that reads the user, verifies argon2id, signs and records the access token, the refresh token's hash and the audit row in one statement; no Nest, input checks, lockout or throttling) does ${v.text} of the argon2 ceiling — ${VERDICT_TEXT[v.verdict]} (the password checked in auth-core behind an HTTP gateway and NATS)${pclTurns ? `; Portcullis does about ${pct(pclTurns.medianRatio / shape.medianRatio)} of that shape` : ''}`;
    }
    // The split between the two apps: auth-core behind the least-work forwarder, in turns too.
    const coreAlone = row('turns.http.login.core_alone')?.turns;
    if (t && !t.pass && t.shortfall && coreAlone)
      t.shortfall += `; split: auth-core alone behind the least-work forwarder (turns.http.login.core_alone) does ${pct(coreAlone.medianRatio)} (median in turns), so the gateway costs ${pct(Math.max(0, coreAlone.medianRatio - (pclTurns?.medianRatio ?? coreAlone.medianRatio)))} points${shape ? ` and auth-core ${pct(Math.max(0, shape.medianRatio - coreAlone.medianRatio))} points against the shape` : ''}`;
  }
}
