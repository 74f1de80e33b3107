#!/usr/bin/env node
/**
 * Portcullis benchmark (issue #9): one command, one run, on this machine — the ceilings of the
 * parts Portcullis is built from, Portcullis itself (started from dist/), and a peer server
 * (panva's oidc-provider) — then bench/REPORT.md and bench/results.json.
 *
 *   npm run build && npm run bench                 full run (a few minutes)
 *   npm run bench -- --smoke                       same code paths, tiny counts (seconds)
 *   options: --out DIR  --duration SECONDS  --no-profile  --profile  --profile-only WORKLOAD[,…]  --only ROW-PREFIX[,…]
 *            --report-only (re-render REPORT.md from results.json)
 *
 * This file reads the options, runs the phases (bench/phases/*.mjs) in order and writes the
 * results. See bench/README.md for the method.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Bench, log } from './lib/harness.mjs';
import { NATS_URL, ROOT, snapshotDist, Stack } from './lib/stack.mjs';
import { renderReport } from './lib/report.mjs';
import { ANCHORS, evaluateTargets } from './lib/targets.mjs';
import { fixtures } from './phases/fixtures.mjs';
import { transportCeilings } from './phases/ceilings-transport.mjs';
import { cryptoCeilings } from './phases/ceilings-crypto.mjs';
import { pgCeilings } from './phases/ceilings-pg.mjs';
import { natsValidate } from './phases/nats-validate.mjs';
import { httpValidate } from './phases/http-validate.mjs';
import { clientCredentials } from './phases/client-credentials.mjs';
import { refresh } from './phases/refresh.mjs';
import { login } from './phases/login.mjs';
import { peer } from './phases/peer.mjs';
import { revocationPhase } from './phases/revocation.mjs';
import { memoryRows } from './phases/memory.mjs';
import { profileMisses } from './phases/profile-misses.mjs';

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const SMOKE = flag('smoke');
const OUT = opt('out', SMOKE ? join(tmpdir(), 'portcullis-bench-smoke') : join(ROOT, 'bench'));
const MEASURE_MS = Number(opt('duration', SMOKE ? 0.4 : 6)) * 1000;
const WARMUP_MS = SMOKE ? 100 : 1500;
const DISTINCT = SMOKE ? 100 : 10_000;
const REVOCATIONS = SMOKE ? 5 : 200;
/** The ratio targets' rows taken in turns with their ceilings (stats.mjs inTurns). */
const TURNS = SMOKE ? { rounds: 2, sliceMs: 100, warmupMs: 0 } : { rounds: 12, sliceMs: 1500, warmupMs: 250 };
/** Login in turns with argon2: longer slices (a login takes ~0.5 s under this load) and a drain after each. */
const LOGIN_TURNS = SMOKE ? { rounds: 2, sliceMs: 1500 } : { rounds: 8, sliceMs: 3000 };
/** --only PREFIX[,…]: measure only the rows whose id starts with one of these (a partial, diagnostic run). */
const ONLY = opt('only', null)?.split(',');
const PROFILE = flag('profile') || (!SMOKE && !ONLY && !flag('no-profile'));
/** What the phases read (lib/harness.mjs Bench). */
const OPTIONS = {
  smoke: SMOKE,
  measureMs: MEASURE_MS,
  warmupMs: WARMUP_MS,
  distinct: DISTINCT,
  revocations: REVOCATIONS,
  turns: TURNS,
  loginTurns: LOGIN_TURNS,
  only: ONLY,
};

// ---------------------------------------------------------------- the run
async function main() {
  if (flag('report-only')) {
    // Re-renders REPORT.md from the results.json in --out (e.g. after editing NOTES.md), judging
    // the targets again from its rows so a change to lib/targets.mjs shows without a new run.
    const results = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
    results.targets = evaluateTargets(results.rows);
    writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(OUT, 'REPORT.md'), renderReport(results));
    log(`wrote ${join(OUT, 'REPORT.md')}`);
    return;
  }
  const b = new Bench(OPTIONS);
  await snapshotDist();
  const only = opt('profile-only', null);
  if (only) {
    // Diagnostics: just the --cpu-prof re-runs of the named workloads, summarised on stdout.
    const targets = only.split(',').map((w) => ({ id: w, pass: false, profile: w }));
    console.log(JSON.stringify(await profileMisses({ targets, loop: b.loop }), null, 2));
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const started = new Date();
  // BENCH_APP_ENV='{"NODE_OPTIONS":"…"}': a what-if run of both apps with extra environment (recorded in meta).
  const appEnv = process.env.BENCH_APP_ENV ? JSON.parse(process.env.BENCH_APP_ENV) : {};
  // A full run under a busy machine can outlast the default 15-minute access token: the fixtures'
  // tokens (admin session, the 10,000 minted ones) live for 2 hours instead. Nothing else changes.
  // BENCH_GATEWAY_ARGS='["--flag"]': a what-if run with extra node flags for the gateway only (recorded in meta).
  const gatewayNodeArgs = process.env.BENCH_GATEWAY_ARGS ? JSON.parse(process.env.BENCH_GATEWAY_ARGS) : [];
  // BENCH_CORE_ARGS='["--flag"]': the same for auth-core's replicas.
  const coreNodeArgs = process.env.BENCH_CORE_ARGS ? JSON.parse(process.env.BENCH_CORE_ARGS) : [];
  const stack = new Stack({ appEnv, gatewayNodeArgs, coreNodeArgs, env: { ACCESS_TOKEN_TTL: '7200' } });
  let profiles = [];
  const revocation = {};
  const memory = {};
  try {
    log(`mode ${SMOKE ? 'smoke' : 'full'}: ${MEASURE_MS} ms per phase, output ${OUT}`);
    await stack.start(1);
    b.mem.track('auth-core', stack.replicas[0].pid);
    b.mem.track('gateway', stack.gateway.pid);
    b.heapProbe = () => stack.heap();
    await new Promise((r) => setTimeout(r, SMOKE ? 200 : 3000));
    memory.idle = b.mem.snapshot();
    log(`idle RSS (started, no request yet): ${JSON.stringify(memory.idle)}`);

    const fx = await fixtures(b, stack, memory);
    // 1. ceilings
    await transportCeilings(b, stack, fx);
    const { es256Op, argonOp } = await cryptoCeilings(b, fx);
    await pgCeilings(b, stack, fx);
    // 2. Portcullis
    await natsValidate(b, stack, fx, { es256Op });
    await httpValidate(b, fx);
    const cc = await clientCredentials(b, stack, fx);
    await refresh(b, fx);
    await login(b, stack, fx, { argonOp });
    // 3. the peer, and the rows judged in turns with it
    await peer(b, stack, fx, cc);
    // revocation on 2 replicas
    await revocationPhase(b, stack, fx, revocation);
    memoryRows(b, memory);

    // profiles where auth-core misses
    let targets = evaluateTargets(b.rows);
    if (PROFILE && targets.some((t) => !t.pass && t.profile)) {
      profiles = await profileMisses({ targets, loop: b.loop });
    }
    targets = evaluateTargets(b.rows);

    const results = {
      meta: {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        mode: SMOKE ? 'smoke' : 'full',
        measureMs: MEASURE_MS,
        warmupMs: WARMUP_MS,
        node: process.version,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model,
        memoryMb: Math.round(totalmem() / 2 ** 20),
        commit: gitHead(),
        nats: NATS_URL,
        appEnv: Object.keys(appEnv).length ? appEnv : null,
        gatewayNodeArgs: gatewayNodeArgs.length ? gatewayNodeArgs : null,
        coreNodeArgs: coreNodeArgs.length ? coreNodeArgs : null,
      },
      rows: b.rows,
      targets,
      revocation,
      memory,
      anchors: ANCHORS,
      profiles,
    };
    writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(OUT, 'REPORT.md'), renderReport(results));
    log(`wrote ${join(OUT, 'results.json')} and REPORT.md`);
    console.log(
      targets.map((t) => `${t.pass ? 'PASS' : 'MISS'}  ${t.id}: ${t.measuredText} (target ${t.targetText})`).join('\n'),
    );
  } catch (err) {
    console.error(`bench failed: ${err?.stack ?? err}\n${stack.logs?.() ?? ''}`);
    process.exitCode = 1;
  } finally {
    b.heapProbe = null;
    await b.stopChildren();
    await stack.stop().catch((e) => console.error(`stack stop: ${e}`));
  }
}

function gitHead() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: ROOT }).toString().trim();
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return null;
  }
}

await main();
process.exit(process.exitCode ?? 0);
