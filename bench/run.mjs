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
 * See bench/README.md for the method.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes, randomUUID, verify as cryptoVerify } from 'node:crypto';
import { Algorithm, hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { importJWK, jwtVerify } from 'jose';
import pg from 'pg';
import { cannon } from './lib/load.mjs';
import { Child, findPid, freePort, MemoryWatch, watchThreads } from './lib/procs.mjs';
import { newestProfile, summariseProfile } from './lib/profile.mjs';
import { http, must, NATS_URL, ROOT, snapshotDist, Stack } from './lib/stack.mjs';
import { closedLoop, inTurns, now, Recorder, round, syncLoop } from './lib/stats.mjs';
import { renderReport } from './lib/report.mjs';
import { ANCHORS, evaluateTargets } from './lib/targets.mjs';

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
const HTTP_CONNECTIONS = 32;
/** The ratio targets' rows taken in turns with their ceilings (stats.mjs inTurns). */
const TURNS = SMOKE ? { rounds: 2, sliceMs: 100, warmupMs: 0 } : { rounds: 12, sliceMs: 1500, warmupMs: 250 };
/** Login in turns with argon2: longer slices (a login takes ~0.5 s under this load) and a drain after each. */
const LOGIN_TURNS = SMOKE ? { rounds: 2, sliceMs: 1500 } : { rounds: 8, sliceMs: 3000 };
const LOGIN_DRAIN_MS = 2000;
/** --only PREFIX[,…]: measure only the rows whose id starts with one of these (a partial, diagnostic run). */
const ONLY = opt('only', null)?.split(',');
const PROFILE = flag('profile') || (!SMOKE && !ONLY && !flag('no-profile'));
const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
/** The app's pg pool (apps/auth-core/src/database/data-source-options.ts). */
const PG_POOL_SIZE = 10;
/** Tokens per group-commit statement in ceiling.pg.token_batch: one per HTTP connection of the client_credentials phase, the most that can wait at once. */
const TOKEN_BATCH = 32;

const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------- shared state
const rows = [];
const mem = new MemoryWatch();
/** Set once the stack runs: the apps' own heap figures, read after each phase. */
let heapProbe = null;
mem.track('bench', process.pid);
const natsPid = findPid(/nats-server/);
if (natsPid) mem.track('nats-server', natsPid, false);

/** Machine CPU busy (% of one core) over `ms`, from /proc/stat. */
async function machineBusy(ms = 500) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0), t: performance.now() };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return ((b.busy - a.busy) / 100 / ((b.t - a.t) / 1000)) * 100;
}

/**
 * Other sessions may share this machine. Before a phase, wait (up to QUIET_WAIT_MS) for the
 * machine to be quiet; after it, a phase during which more than FOREIGN_LIMIT % of a core went
 * to processes that are not part of the measurement is run again (up to 3 attempts; the
 * quietest is kept, and its foreign share is reported).
 */
const QUIET_LIMIT = 15;
const QUIET_WAIT_MS = SMOKE ? 0 : 120_000;
const FOREIGN_LIMIT = 15;
async function waitQuiet() {
  const deadline = Date.now() + QUIET_WAIT_MS;
  let busy = await machineBusy(SMOKE ? 50 : 500);
  let waited = false;
  while (busy > QUIET_LIMIT && Date.now() < deadline) {
    if (!waited) log(`machine busy (${Math.round(busy)} % of a core) with other work: waiting for quiet …`);
    waited = true;
    await new Promise((r) => setTimeout(r, 1000));
    busy = await machineBusy(500);
  }
  return Math.round(busy);
}

/** Whether --only lets row `id` run (also used to skip starting processes no row will use). */
const wanted = (id) => !ONLY || ONLY.some((p) => id.startsWith(p));

/** Runs one measured phase, attaching peak RSS and CPU use of every tracked process to its row. */
async function phase(id, group, name, extra, fn, { retry = true, before, threadsOf } = {}) {
  if (!wanted(id)) return null;
  let best = null;
  for (let attempt = 1; attempt <= (retry && !SMOKE ? 3 : 1); attempt++) {
    await before?.();
    const busyBefore = await waitQuiet();
    log(`${id} …${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    const end = mem.begin();
    const threadsEnd = threadsOf ? watchThreads(threadsOf()) : null;
    let result;
    try {
      result = await fn();
    } catch (err) {
      result = { ops: 0, errors: 1, throughput: 0, p50_ms: null, p99_ms: null, lastError: String(err?.stack ?? err) };
    }
    const { rss, cpu } = end();
    const row = { id, group, name, ...extra, ...result, peakRssMb: rss, cpuPct: cpu, machineBusyBeforePct: busyBefore };
    if (threadsEnd) row.threads = threadsEnd();
    if (heapProbe) row.heapAfterMb = await heapProbe();
    if (attempt > 1) row.attempts = attempt;
    if (!best || cpu.foreign < best.cpuPct.foreign) best = row;
    if (cpu.foreign <= FOREIGN_LIMIT) break;
    log(`${id}: ${cpu.foreign} % of a core went to other work during the phase`);
  }
  rows.push(best);
  const row = best;
  log(
    `${id}: ${row.throughput}/s p50 ${row.p50_ms} ms p99 ${row.p99_ms} ms cpu ${JSON.stringify(row.cpuPct)}` +
      (row.errors ? ` errors ${row.errors}${row.lastError ? ` (${row.lastError.split('\n')[0]})` : ''}` : ''),
  );
  return row;
}

/**
 * Starts one of bench/servers as its own process, waits for its "ready" line and tracks its
 * memory and CPU under `name`; stopped with the others at the end if the run fails first.
 */
async function startServer(children, name, script, args, env) {
  const child = new Child(name, [join(ROOT, 'bench/servers', script), ...args], { cwd: ROOT, env });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.proc.stdout.once('data', resolve);
    child.exited.then(() => reject(new Error(`${name} exited: ${child.logs()}`)));
  });
  mem.track(name, child.pid);
  return child;
}

/** servers/http-nats-forward.mjs in front of `subject`, publishing at turn end as the gateway does. */
async function startForwarder(children, subject, mode = 'turn-end') {
  const port = await freePort();
  const child = await startServer(
    children,
    'http-nats-forward',
    'http-nats-forward.mjs',
    [String(port), subject, mode],
    { NATS_URL },
  );
  return {
    url: `http://127.0.0.1:${port}/forward`,
    stop: async () => {
      await child.stop();
      mem.untrack('http-nats-forward');
    },
  };
}

/**
 * Runs `fn(url)` against a least-work shape: copies of the app's tables (`tables`: [copy, original]),
 * the shape's responder on its own subject (`args(subject)`), the turn-end forwarder in front of it;
 * all of it stopped and dropped after, whatever `fn` does.
 */
async function withShape(
  children,
  stack,
  { name, script, subjectName, tables, args, env = {}, front = startForwarder },
  fn,
) {
  const pgPool = new pg.Pool({ connectionString: stack.db.url, max: 1 });
  for (const [copy, original] of tables) await pgPool.query(`CREATE TABLE ${copy} (LIKE ${original} INCLUDING ALL)`);
  const subject = stack.subject(subjectName);
  const server = await startServer(children, name, script, args(subject), { NATS_URL, ...env });
  const fwd = await front(children, subject);
  try {
    return await fn(fwd.url);
  } finally {
    await fwd.stop();
    await server.stop();
    mem.untrack(name);
    for (const [copy] of tables) await pgPool.query(`DROP TABLE ${copy}`);
    await pgPool.end();
  }
}

function natsRequester(nc, subject, payloads, check) {
  return async (i) => {
    const msg = await nc.request(subject, payloads[i % payloads.length], { timeout: 10000 });
    const body = msg.json();
    if (!check(body)) throw new Error(`unexpected reply ${JSON.stringify(body).slice(0, 200)}`);
  };
}

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function decodeJwt(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    input: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
}

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
  await snapshotDist();
  const only = opt('profile-only', null);
  if (only) {
    // Diagnostics: just the --cpu-prof re-runs of the named workloads, summarised on stdout.
    const loop = { warmupMs: WARMUP_MS, durationMs: MEASURE_MS };
    const targets = only.split(',').map((w) => ({ id: w, pass: false, profile: w }));
    console.log(JSON.stringify(await profileMisses({ targets, loop }), null, 2));
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const started = new Date();
  const loop = { warmupMs: WARMUP_MS, durationMs: MEASURE_MS };
  // BENCH_APP_ENV='{"NODE_OPTIONS":"…"}': a what-if run of both apps with extra environment (recorded in meta).
  const appEnv = process.env.BENCH_APP_ENV ? JSON.parse(process.env.BENCH_APP_ENV) : {};
  // A full run under a busy machine can outlast the default 15-minute access token: the fixtures'
  // tokens (admin session, the 10,000 minted ones) live for 2 hours instead. Nothing else changes.
  const stack = new Stack({ appEnv, env: { ACCESS_TOKEN_TTL: '7200' } });
  const children = [];
  let profiles = [];
  const revocation = {};
  const memory = {};
  try {
    log(`mode ${SMOKE ? 'smoke' : 'full'}: ${MEASURE_MS} ms per phase, output ${OUT}`);
    await stack.start(1);
    mem.track('auth-core', stack.replicas[0].pid);
    mem.track('gateway', stack.gateway.pid);
    heapProbe = () => stack.heap();
    const nc = stack.nc;
    const gw = stack.url;
    await new Promise((r) => setTimeout(r, SMOKE ? 200 : 3000));
    memory.idle = mem.snapshot();
    log(`idle RSS (started, no request yet): ${JSON.stringify(memory.idle)}`);

    // --- fixtures: an admin session, a machine client, a user with a PAT, tokens to validate
    const adminLogin = must(
      await http(gw).post('/api/v1/auth/login', { username: stack.adminUsername, password: stack.adminPassword }),
      200,
      'admin login',
    );
    const admin = http(gw, adminLogin.access_token);
    const client = must(
      await admin.post('/api/v1/clients', { clientId: 'bench-svc', roles: ['service'], description: 'bench' }),
      201,
      'create client',
    );
    const userPassword = `Bench-${randomBytes(9).toString('base64url')}`;
    must(
      await admin.post('/api/v1/users', { username: 'bench-user', password: userPassword, roles: ['user'] }),
      201,
      'create user',
    );
    // Login and refresh load is spread over one user per connection: a login writes its user's
    // row (last login), and 32 sessions of one person at once would measure that row lock.
    const loginUsers = Array.from({ length: SMOKE ? 4 : HTTP_CONNECTIONS }, (_, i) => `bench-user-${i}`);
    await closedLoop({
      concurrency: 4,
      durationMs: 600_000,
      maxOps: loginUsers.length,
      op: async (i) =>
        must(
          await admin.post('/api/v1/users', { username: loginUsers[i], password: userPassword, roles: ['user'] }),
          201,
          'create user',
        ),
    });
    let nextUser = 0;
    const loginBody = () =>
      JSON.stringify({ username: loginUsers[nextUser++ % loginUsers.length], password: userPassword });
    const userLogin = must(
      await http(gw).post('/api/v1/auth/login', { username: 'bench-user', password: userPassword }),
      200,
      'user login',
    );
    const pat = must(
      await http(gw, userLogin.access_token).post('/api/v1/users/me/tokens', {
        name: 'bench',
        expiresAt: new Date(Date.now() + 7 * 86400_000).toISOString(),
        permissions: ['tokens:read'],
        tenants: [],
      }),
      201,
      'create PAT',
    ).token;
    const ccSubject = stack.subject('auth.v1.oauth.client-credentials');
    const validateSubject = stack.subject('auth.v1.token.validate');
    const ccPayload = JSON.stringify({ client_id: client.clientId, client_secret: client.client_secret });
    const mint = async (n) => {
      const out = [];
      await closedLoop({
        concurrency: 32,
        durationMs: 600_000,
        maxOps: n,
        op: async () => {
          const m = await nc.request(ccSubject, ccPayload, { timeout: 10000 });
          if (m.headers?.get('Portcullis-Error')) throw new Error(m.string());
          out.push(m.json());
        },
      });
      return out;
    };
    log(`minting ${DISTINCT} distinct client tokens …`);
    const minted = (await mint(DISTINCT)).map((r) => r.access_token);
    const sameToken = minted[0];
    const samePayload = [Buffer.from(JSON.stringify({ token: sameToken }))];
    const distinctPayloads = minted.map((t) => Buffer.from(JSON.stringify({ token: t })));
    const sampleReply = (await nc.request(validateSubject, samePayload[0], { timeout: 5000 })).data;
    if (!JSON.parse(Buffer.from(sampleReply).toString()).valid) throw new Error('the minted token does not validate');
    const jwks = (await (await fetch(`${gw}/.well-known/jwks.json`)).json()).keys;

    await new Promise((r) => setTimeout(r, SMOKE ? 200 : 2000));
    memory.afterFixtures = mem.snapshot();
    log(`RSS after the fixtures: ${JSON.stringify(memory.afterFixtures)}`);

    /** The raw NATS ceiling's no-op responder, answering the bytes of a real validate reply. */
    const startNoop = async () => {
      const subject = stack.subject('bench.noop');
      const reply = Buffer.from(sampleReply).toString('base64');
      const server = await startServer(children, 'nats-noop', 'nats-noop.mjs', [subject, reply], { NATS_URL });
      return {
        subject,
        stop: async () => {
          await server.stop();
          mem.untrack('nats-noop');
        },
      };
    };

    // ============================================================ 1. ceilings
    {
      const { subject, stop: stopNoop } = await startNoop();
      const op = natsRequester(nc, subject, samePayload, (b) => b.valid === true);
      for (const c of [1, 64])
        await phase(
          `ceiling.nats.c${c}`,
          'ceiling',
          `raw nats.js request/reply, no-op responder, ${c} in flight`,
          { concurrency: c },
          () => closedLoop({ concurrency: c, ...loop, op }),
        );
      // The gateway's shape without Portcullis: Fastify, one nats.js request per HTTP request to
      // the same no-op responder. No gateway→auth-core design can beat it on this machine.
      const fwdPort = await freePort();
      const fwd = await startServer(
        children,
        'http-nats-forward',
        'http-nats-forward.mjs',
        [String(fwdPort), subject],
        {
          NATS_URL,
        },
      );
      const fwdUrl = `http://127.0.0.1:${fwdPort}`;
      const hac = { connections: HTTP_CONNECTIONS, warmupMs: WARMUP_MS, durationMs: MEASURE_MS };
      await phase(
        'ceiling.http.fastify',
        'ceiling',
        `Fastify alone, GET answering a constant, autocannon ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () => cannon({ url: `${fwdUrl}/noop`, ...hac }),
      );
      await phase(
        'ceiling.http_nats.get',
        'ceiling',
        `Fastify + one nats.js request to the no-op responder per GET (the gateway's shape, no Portcullis code), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () => cannon({ url: `${fwdUrl}/forward`, headers: { authorization: `Bearer ${sameToken}` }, ...hac }),
      );
      await phase(
        'ceiling.http_nats.form',
        'ceiling',
        `the same with a form-encoded POST (the shape of /oauth/token), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () =>
          cannon({
            url: `${fwdUrl}/forward`,
            method: 'POST',
            headers: { authorization: 'Basic YmVuY2g6YmVuY2g=', 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=client_credentials',
            ...hac,
          }),
      );
      await fwd.stop();
      mem.untrack('http-nats-forward');
      await stopNoop();
    }
    // The least work any NATS validator must do per distinct token (parse, ES256 verify, reply),
    // inline and on 1 or 2 worker threads: the bound for the distinct-token rows on this machine.
    {
      const kid = decodeJwt(sameToken).header.kid;
      const jwk = JSON.stringify(jwks.find((k) => k.kid === kid));
      for (const workers of [0, 1, 2]) {
        const subject = stack.subject(`bench.verify${workers}`);
        const name = 'nats-verify';
        const verifier = await startServer(
          children,
          name,
          'nats-verify.mjs',
          [subject, String(sampleReply.length), jwk, String(workers)],
          { NATS_URL },
        );
        const op = natsRequester(nc, subject, distinctPayloads, (b) => b.valid === true);
        await phase(
          workers ? `ceiling.nats_verify.workers${workers}.c64` : 'ceiling.nats_verify.c64',
          'ceiling',
          `raw nats.js responder: parse each of the ${distinctPayloads.length} distinct tokens, verify its ES256 signature (node:crypto) ${workers ? `on ${workers} worker thread${workers > 1 ? 's' : ''} (the main thread only doing NATS I/O)` : 'inline'}, reply; no other work; 64 in flight`,
          { concurrency: 64 },
          () => closedLoop({ concurrency: 64, ...loop, op }),
        );
        await verifier.stop();
        mem.untrack(name);
      }
    }
    const decoded = minted.map(decodeJwt);
    const jwkOf = (kid) => jwks.find((k) => k.kid === kid);
    const keyObject = createPublicKey({ key: jwkOf(decoded[0].header.kid), format: 'jwk' });
    const es256Op = (i) => {
      const d = decoded[i % decoded.length];
      if (!cryptoVerify('sha256', d.input, { key: keyObject, dsaEncoding: 'ieee-p1363' }, d.signature))
        throw new Error('bad signature');
    };
    await phase(
      'ceiling.es256.crypto',
      'ceiling',
      'node:crypto ES256 verify, KeyObject, sync, 1 core',
      { concurrency: 1 },
      async () => syncLoop({ ...loop, op: es256Op }),
    );
    const joseKey = await importJWK(jwkOf(decoded[0].header.kid), 'ES256');
    await phase('ceiling.es256.jose', 'ceiling', 'jose jwtVerify (WebCrypto), 1 in flight', { concurrency: 1 }, () =>
      closedLoop({
        concurrency: 1,
        ...loop,
        op: (i) =>
          jwtVerify(minted[i % minted.length], joseKey, { issuer: gw, audience: 'portcullis', algorithms: ['ES256'] }),
      }),
    );
    /** One argon2id verify with the app's parameters (the ceiling's op, reused by turns.http.login). */
    let argonOp;
    {
      const stored = await argonHash('correct horse battery staple', ARGON2_PARAMS);
      const op = (argonOp = async () => {
        if (!(await argonVerify(stored, 'correct horse battery staple'))) throw new Error('argon2 mismatch');
      });
      const argonLoop = { warmupMs: Math.min(WARMUP_MS, 500), durationMs: MEASURE_MS };
      await phase(
        'ceiling.argon2.1core',
        'ceiling',
        'argon2id verify (19456 KiB, t=2, p=1), 1 in flight = 1 core',
        { concurrency: 1 },
        () => closedLoop({ concurrency: 1, ...argonLoop, op }),
      );
      // libuv's pool has 4 threads (auth-core uses the default too); 4 in flight keeps both cores busy.
      await phase(
        'ceiling.argon2.2cores',
        'ceiling',
        'argon2id verify, 4 in flight on the libuv pool = 2 cores',
        { concurrency: 4 },
        () => closedLoop({ concurrency: 4, ...argonLoop, op }),
      );
    }
    {
      const pool = new pg.Pool({ connectionString: stack.db.url, max: PG_POOL_SIZE });
      await pool.query('CREATE TABLE bench_ceiling (LIKE access_tokens INCLUDING ALL)');
      const claims = decoded[0].payload;
      const op = () =>
        pool.query(
          `INSERT INTO bench_ceiling (tid, sub, cid, rcid, typ, roles, tenants, created_at, expires_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, now(), now() + interval '15 minutes')`,
          [claims.sub, claims.cid, claims.rcid, claims.typ, claims.roles, claims.tenants],
        );
      await phase(
        'ceiling.pg.insert',
        'ceiling',
        `PostgreSQL single-row INSERT (autocommit), pg pool of ${PG_POOL_SIZE}, ${PG_POOL_SIZE} in flight`,
        { concurrency: PG_POOL_SIZE },
        () => closedLoop({ concurrency: PG_POOL_SIZE, ...loop, op }),
      );
      await pool.query('DROP TABLE bench_ceiling');
      // What recording a client_credentials token costs PostgreSQL at best: the app's group-commit
      // statement (apps/auth-core/src/tokens/token-record.writer.ts: token rows and their audit
      // rows in one statement) with a full batch of TOKEN_BATCH, as many statements in flight as
      // the writer allows. The client_credentials bound uses its CPU per token.
      await pool.query('CREATE TABLE bench_tokens (LIKE access_tokens INCLUDING ALL)');
      await pool.query('CREATE TABLE bench_audit (LIKE audit_events INCLUDING ALL)');
      const tokenCols =
        'tid, sub, cid, rcid, typ, roles, tenants, family_id, user_id, created_at, expires_at, revoked, revoked_at';
      const auditCols = 'id, type, actor, subject, success, data, created_at';
      const batchSql = `WITH tokens AS (
          INSERT INTO bench_tokens (${tokenCols}) SELECT ${tokenCols} FROM json_populate_recordset(NULL::bench_tokens, $1::json)
        )
        INSERT INTO bench_audit (${auditCols}) SELECT ${auditCols} FROM json_populate_recordset(NULL::bench_audit, $2::json)`;
      const batchOp = () => {
        const at = new Date().toISOString();
        const tokens = [];
        const audits = [];
        for (let k = 0; k < TOKEN_BATCH; k++) {
          const tid = randomUUID();
          tokens.push({
            tid,
            sub: claims.sub,
            cid: claims.cid,
            rcid: claims.rcid,
            typ: claims.typ,
            roles: claims.roles ?? [],
            tenants: claims.tenants ?? [],
            created_at: at,
            expires_at: at,
            revoked: false,
          });
          audits.push({
            id: randomUUID(),
            type: 'token.issued',
            actor: claims.sub,
            subject: tid,
            success: true,
            data: { grant: 'client_credentials' },
            created_at: at,
          });
        }
        return pool.query(batchSql, [JSON.stringify(tokens), JSON.stringify(audits)]);
      };
      await phase(
        'ceiling.pg.token_batch',
        'ceiling',
        `PostgreSQL: the app's client_credentials group commit (${TOKEN_BATCH} token rows + their audit rows in one statement), 3 statements in flight; ops/s are statements`,
        { concurrency: 3, tokensPerOp: TOKEN_BATCH },
        () => closedLoop({ concurrency: 3, ...loop, op: batchOp }),
      );
      await pool.query('DROP TABLE bench_tokens');
      await pool.query('DROP TABLE bench_audit');
      await pool.end();
    }

    // ============================================================ 2. Portcullis
    const valid = (b) => b.valid === true;
    for (const [kind, payloads] of [
      ['same', samePayload],
      ['distinct', distinctPayloads],
    ])
      for (const c of [1, 64])
        await phase(
          `pcl.nats.validate.${kind}.c${c}`,
          'portcullis',
          `auth.v1.token.validate over NATS, ${kind === 'same' ? 'the same token' : `${payloads.length} distinct tokens`}, ${c} in flight`,
          { concurrency: c },
          () => closedLoop({ concurrency: c, ...loop, op: natsRequester(nc, validateSubject, payloads, valid) }),
        );
    // The ratio targets again, each side taken in turns with its ceiling in short slices (see
    // inTurns): the phases above are a minute or more apart on a machine whose speed drifts.
    const es256Slice = (durationMs) => syncLoop({ durationMs, warmupMs: TURNS.warmupMs, op: es256Op });
    const natsSlice = (subject, payloads) => (durationMs) =>
      closedLoop({
        concurrency: 64,
        durationMs,
        warmupMs: TURNS.warmupMs,
        op: natsRequester(nc, subject, payloads, valid),
      });
    {
      const { subject, stop: stopNoop } = await startNoop();
      await phase(
        'turns.nats.validate.same.c64',
        'turns',
        `in turns with ceiling.nats.c64 (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, the same token, 64 in flight`,
        { concurrency: 64, pairedWith: 'ceiling.nats.c64' },
        () => inTurns({ ...TURNS, a: natsSlice(subject, samePayload), b: natsSlice(validateSubject, samePayload) }),
      );
      await stopNoop();
    }
    // The least-work validator (servers/nats-verify.mjs, inline) in turns with the same ceiling:
    // what the distinct-token target allows at all on this machine, measured the way it is judged.
    for (const workers of [0, 2]) {
      const id = workers ? `turns.nats_verify.workers${workers}.c64` : 'turns.nats_verify.c64';
      if (!wanted(id)) continue;
      const jwk = JSON.stringify(jwks.find((k) => k.kid === decodeJwt(sameToken).header.kid));
      const subject = stack.subject(`bench.verify-turns${workers}`);
      const verifier = await startServer(
        children,
        'nats-verify',
        'nats-verify.mjs',
        [subject, String(sampleReply.length), jwk, String(workers)],
        { NATS_URL },
      );
      try {
        await phase(
          id,
          'turns',
          `in turns with ceiling.es256.crypto (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): the raw nats.js responder of ceiling.nats_verify${workers ? `.workers${workers}` : ''}.c64 (parse, verify ${workers ? `on ${workers} worker threads` : 'inline'}, reply; no other work), ${distinctPayloads.length} distinct tokens, 64 in flight`,
          { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
          () => inTurns({ ...TURNS, a: es256Slice, b: natsSlice(subject, distinctPayloads) }),
        );
      } finally {
        await verifier.stop();
        mem.untrack('nats-verify');
      }
    }
    await phase(
      'turns.nats.validate.distinct.c64',
      'turns',
      `in turns with ceiling.es256.crypto (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, ${distinctPayloads.length} distinct tokens, 64 in flight`,
      { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
      () => inTurns({ ...TURNS, a: es256Slice, b: natsSlice(validateSubject, distinctPayloads) }),
    );
    // The same distinct-token load on a replica whose validations are served by worker threads
    // (VERIFY_WORKERS=2, for a replica with 2+ CPUs; the shipped default is the main thread): its own
    // subject prefix, same database and keys, started for this row only.
    {
      const side = await stack.startSidecar('auth-core-w2', { VERIFY_WORKERS: '2' });
      mem.track('auth-core-w2', side.child.pid);
      try {
        await phase(
          'pcl.nats.validate.distinct.workers2.c64',
          'portcullis',
          `auth.v1.token.validate over NATS, ${distinctPayloads.length} distinct tokens, 64 in flight, on a replica with VERIFY_WORKERS=2 (validations served by 2 worker threads, each with its own NATS connection)`,
          { concurrency: 64 },
          () =>
            closedLoop({
              concurrency: 64,
              ...loop,
              op: natsRequester(nc, side.subject('auth.v1.token.validate'), distinctPayloads, valid),
            }),
          { threadsOf: () => side.child.pid },
        );
        await phase(
          'turns.nats.validate.distinct.workers2.c64',
          'turns',
          `in turns with ceiling.es256.crypto (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, ${distinctPayloads.length} distinct tokens, 64 in flight, VERIFY_WORKERS=2`,
          { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
          () =>
            inTurns({
              ...TURNS,
              a: es256Slice,
              b: natsSlice(side.subject('auth.v1.token.validate'), distinctPayloads),
            }),
        );
      } finally {
        mem.untrack('auth-core-w2');
        await side.stop();
      }
    }
    const ac = { connections: HTTP_CONNECTIONS, warmupMs: WARMUP_MS, durationMs: MEASURE_MS };
    // The gateway app itself (Nest on Fastify, its hooks: request id, metrics, logging context)
    // answering a constant, with the validate request's headers: the most any HTTP validate
    // served by this gateway could do, whether it asks auth-core or verified tokens itself.
    await phase(
      'ceiling.gateway.live',
      'ceiling',
      `the gateway app answering GET /health/live (a constant: no NATS, no validation), same headers, autocannon ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${gw}/health/live`, headers: { authorization: `Bearer ${sameToken}` }, ...ac }),
    );
    await phase(
      'pcl.http.validate',
      'portcullis',
      `GET /api/v1/auth/validate (JWT), autocannon ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${gw}/api/v1/auth/validate`, headers: { authorization: `Bearer ${sameToken}` }, ...ac }),
    );
    await phase(
      'pcl.http.pat_validate',
      'portcullis',
      `GET /api/v1/auth/validate with a PAT, autocannon ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${gw}/api/v1/auth/validate`, headers: { authorization: `Bearer ${pat}` }, ...ac }),
    );
    /** The bench client's /oauth/token request, the same for every client_credentials row. */
    const ccRequest = {
      method: 'POST',
      headers: {
        authorization: basic(client.clientId, client.client_secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    };
    const ccForm = { ...ccRequest, ...ac };
    await phase(
      'pcl.http.client_credentials',
      'portcullis',
      `POST /oauth/token client_credentials (Basic), token recorded in PostgreSQL, ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${gw}/oauth/token`, ...ccForm }),
    );
    // Where the row above loses against the peer: the chosen stack's least work for the same
    // request (servers/nest-shape.mjs, no Portcullis code), then each real app with that
    // least-work stand-in on the other side. Both sides speak the apps' wire format, so the shape
    // core answers a second real gateway on its own subject prefix, and the shape gateway asks
    // the stack's auth-core.
    const ccSplit = [
      'ceiling.nest_shape.form',
      'pcl.http.client_credentials.gateway_alone',
      'pcl.http.client_credentials.core_alone',
    ];
    if (ccSplit.some(wanted)) {
      const running = new Map();
      const start = async (name, args) =>
        running.set(name, await startServer(children, name, 'nest-shape.mjs', args, { NATS_URL }));
      const stop = async (name) => {
        const child = running.get(name);
        if (!child) return;
        running.delete(name);
        await child.stop();
        mem.untrack(name);
      };
      try {
        const prefix2 = `${stack.prefix}gw2.`;
        // One constant-answer core serves the shape gateway and the second real gateway alike.
        const shapeCoreSubject = `${prefix2}auth.v1.oauth.client-credentials`;
        if (wanted(ccSplit[0]) || wanted(ccSplit[1])) await start('nest-shape-core', ['core', shapeCoreSubject]);
        if (wanted(ccSplit[0])) {
          const port = await freePort();
          await start('nest-shape-gateway', ['gateway', String(port), shapeCoreSubject]);
          await phase(
            ccSplit[0],
            'ceiling',
            `the chosen stack's least work for /oauth/token: Nest on Fastify with ValidationPipe on a form POST, one NATS request to a Nest NATS microservice that validates its payload with class-validator and answers a constant token (no lookup, signing or database), ${HTTP_CONNECTIONS} connections`,
            { concurrency: HTTP_CONNECTIONS },
            () => cannon({ url: `http://127.0.0.1:${port}/oauth/token`, ...ccForm }),
          );
          await stop('nest-shape-gateway');
        }
        if (wanted(ccSplit[1])) {
          const gw2 = await stack.startGateway('gateway#2', prefix2);
          running.set('gateway#2', gw2.child);
          mem.track('gateway#2', gw2.child.pid);
          await phase(
            ccSplit[1],
            'portcullis',
            `the gateway alone: POST /oauth/token client_credentials on a second gateway (same build) in front of the constant-answer core of ceiling.nest_shape.form (no database), ${HTTP_CONNECTIONS} connections`,
            { concurrency: HTTP_CONNECTIONS },
            () => cannon({ url: `${gw2.url}/oauth/token`, ...ccForm }),
          );
          await stop('gateway#2');
        }
        await stop('nest-shape-core');
        if (wanted(ccSplit[2])) {
          const port = await freePort();
          await start('nest-shape-gateway', ['gateway', String(port), ccSubject]);
          await phase(
            ccSplit[2],
            'portcullis',
            `auth-core alone: client_credentials on the stack's auth-core (token recorded in PostgreSQL) behind the least-work gateway of ceiling.nest_shape.form, POST /oauth/token, ${HTTP_CONNECTIONS} connections`,
            { concurrency: HTTP_CONNECTIONS },
            () => cannon({ url: `http://127.0.0.1:${port}/oauth/token`, ...ccForm }),
          );
        }
      } finally {
        for (const name of [...running.keys()]) await stop(name);
      }
    }
    {
      // Each refresh token is good for one use (rotation with reuse detection), so the
      // connections draw from a shared pool and put back the token each answer brings.
      const pool = [];
      // Each attempt's warm-up and measured run strand up to one token per connection (the
      // request in flight when the run stops), so the pool is topped up before every attempt.
      const topUp = () =>
        closedLoop({
          concurrency: 4,
          durationMs: 600_000,
          maxOps: Math.max(0, HTTP_CONNECTIONS * 3 - pool.length),
          op: async () => {
            const r = must(await http(gw).post('/api/v1/auth/login', JSON.parse(loginBody())), 200, 'login');
            pool.push(r.refresh_token);
          },
        });
      await phase(
        'pcl.http.refresh',
        'portcullis',
        `POST /api/v1/auth/refresh (rotation), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () =>
          cannon({
            url: `${gw}/api/v1/auth/refresh`,
            ...ac,
            requests: [
              {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                setupRequest: (req) => ({
                  ...req,
                  body: JSON.stringify({ refresh_token: pool.shift() ?? 'exhausted' }),
                }),
                onResponse: (status, body) => {
                  if (status === 200) pool.push(JSON.parse(body).refresh_token);
                },
              },
            ],
          }),
        { before: topUp },
      );
    }
    /** autocannon logins at `url`, each request with the next bench user's body. */
    const loginsAt = (url) => (opts) =>
      cannon({
        url,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: loginBody() }),
          },
        ],
        ...opts,
      });
    // Logins at `url` in turns with the argon2 ceiling. Each login slice leaves up to 32 logins in
    // flight when it stops; they are let finish before the next slice, so neither side runs on the
    // other's leftovers.
    const loginTurns = (url) => () =>
      inTurns({
        ...LOGIN_TURNS,
        a: (durationMs) => closedLoop({ concurrency: 4, durationMs, warmupMs: 250, op: argonOp }),
        b: async (durationMs) => {
          const r = await loginsAt(url)({
            connections: HTTP_CONNECTIONS,
            warmupMs: 500,
            drainMs: LOGIN_DRAIN_MS,
            durationMs,
          });
          await new Promise((res) => setTimeout(res, LOGIN_DRAIN_MS));
          return r;
        },
      });
    await phase(
      'pcl.http.login',
      'portcullis',
      `POST /api/v1/auth/login (argon2id), ${HTTP_CONNECTIONS} connections over ${loginUsers.length} users`,
      { concurrency: HTTP_CONNECTIONS },
      () =>
        loginsAt(`${gw}/api/v1/auth/login`)({
          ...ac,
          // argon2 is slow: the smoke run needs a few seconds to complete any login at all, and the
          // 32 logins abandoned by the warm-up take a moment to drain.
          warmupMs: Math.min(WARMUP_MS, 1000),
          drainMs: 2000,
          durationMs: Math.max(MEASURE_MS, 3000),
        }),
      // Whether the hashes got the CPU they were ready to use: see the login bound in targets.mjs.
      { threadsOf: () => stack.replicas[0].pid },
    );
    // Login against the argon2 ceiling in turns (loginTurns).
    await phase(
      'turns.http.login',
      'turns',
      `in turns with ceiling.argon2.2cores (${LOGIN_TURNS.rounds} rounds of ${LOGIN_TURNS.sliceMs / 1000} s each side): POST /api/v1/auth/login, ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
      loginTurns(`${gw}/api/v1/auth/login`),
    );

    // auth-core alone under logins: the least-work forwarder (Fastify, one nats.js request with the
    // JSON body as it came) in front of the real auth-core, in turns with the argon2 ceiling; with
    // turns.http.login and turns.login_shape it says which app the login gap is in.
    if (wanted('turns.http.login.core_alone')) {
      const fwd = await startForwarder(children, stack.subject('auth.v1.login'), 'body');
      try {
        await phase(
          'turns.http.login.core_alone',
          'turns',
          `in turns with ceiling.argon2.2cores (${LOGIN_TURNS.rounds} rounds of ${LOGIN_TURNS.sliceMs / 1000} s each side): auth-core alone — password logins through the least-work forwarder (Fastify, one nats.js request per JSON POST, the body as it came) to the real auth-core, ${HTTP_CONNECTIONS} connections`,
          { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
          loginTurns(fwd.url),
        );
      } finally {
        await fwd.stop();
      }
    }

    // The least work any design of SPEC's shape does per password login (servers/nats-login.mjs
    // behind the forwarder: read the user, argon2id, sign, record the session in one statement),
    // in turns with the argon2 ceiling like the login row: whether 85 % is reachable at all here.
    if (wanted('ceiling.login_shape') || wanted('turns.login_shape')) {
      const what = `the least work of SPEC's shape per password login: Fastify + one nats.js request per JSON POST to a raw nats.js responder that reads the user (one prepared statement), verifies argon2id (scheduled as auth-core: a pool thread per CPU, two hashes per thread in flight), signs an ES256 access token and records it, the refresh token's hash and the audit row in one statement; no Nest, input checks, lockout or throttling, ${HTTP_CONNECTIONS} connections`;
      const tables = [
        ['bench_login_tokens', 'access_tokens'],
        ['bench_login_refresh', 'refresh_tokens'],
        ['bench_login_audit', 'audit_events'],
      ];
      await withShape(
        children,
        stack,
        {
          name: 'nats-login',
          script: 'nats-login.mjs',
          subjectName: 'bench.login',
          tables,
          args: (subject) => [subject, stack.db.url, ...tables.map(([copy]) => copy)],
          env: {
            SHAPE_SLOTS: process.env.SHAPE_SLOTS ?? '',
            UV_THREADPOOL_SIZE: String(Math.min(availableParallelism(), 4)),
          },
        },
        async (shapeUrl) => {
          await phase('ceiling.login_shape', 'ceiling', what, { concurrency: HTTP_CONNECTIONS }, () =>
            loginsAt(shapeUrl)({
              connections: HTTP_CONNECTIONS,
              warmupMs: Math.min(WARMUP_MS, 1000),
              drainMs: LOGIN_DRAIN_MS,
              durationMs: Math.max(MEASURE_MS, 3000),
            }),
          );
          await phase(
            'turns.login_shape',
            'turns',
            `in turns with ceiling.argon2.2cores (${LOGIN_TURNS.rounds} rounds of ${LOGIN_TURNS.sliceMs / 1000} s each side): ${what}`,
            { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
            loginTurns(shapeUrl),
          );
        },
      );
    }

    // ============================================================ 3. the peer
    {
      const port = await freePort();
      const secret = randomBytes(24).toString('base64url');
      const peer = await startServer(children, 'oidc-provider', 'oidc-peer.mjs', [String(port), 'bench-peer', secret], {
        NODE_ENV: 'production',
      });
      const peerUrl = `http://127.0.0.1:${port}`;
      const auth = { authorization: basic('bench-peer', secret), 'content-type': 'application/x-www-form-urlencoded' };
      const issued = await (
        await fetch(`${peerUrl}/token`, { method: 'POST', headers: auth, body: 'grant_type=client_credentials' })
      ).json();
      if (!issued.access_token) throw new Error(`peer issued no token: ${JSON.stringify(issued)}`);
      await phase(
        'peer.introspection',
        'peer',
        `oidc-provider POST /token/introspection (opaque token, in-memory adapter), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () =>
          cannon({
            url: `${peerUrl}/token/introspection`,
            method: 'POST',
            headers: auth,
            body: `token=${issued.access_token}`,
            ...ac,
          }),
      );
      // HTTP validate against the peer's introspection in turns, as the other ratio targets are:
      // the two phases above run a minute apart on a machine whose speed drifts.
      const httpSlice = (url, opts) => (durationMs) =>
        cannon({ url, connections: HTTP_CONNECTIONS, durationMs, warmupMs: TURNS.warmupMs, drainMs: 0, ...opts });
      await phase(
        'turns.http.validate',
        'turns',
        `in turns with peer.introspection (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): GET /api/v1/auth/validate (JWT), autocannon ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.introspection' },
        () =>
          inTurns({
            ...TURNS,
            a: httpSlice(`${peerUrl}/token/introspection`, {
              method: 'POST',
              headers: auth,
              body: `token=${issued.access_token}`,
            }),
            b: httpSlice(`${gw}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${sameToken}` } }),
          }),
      );
      const check = await (
        await fetch(`${peerUrl}/token/introspection`, {
          method: 'POST',
          headers: auth,
          body: `token=${issued.access_token}`,
        })
      ).json();
      const introspected = rows.find((r) => r.id === 'peer.introspection');
      if (check.active !== true && introspected)
        introspected.note = 'the introspected token was no longer active at the end of the phase';
      await phase(
        'peer.client_credentials',
        'peer',
        `oidc-provider POST /token client_credentials (in-memory adapter), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () =>
          cannon({
            url: `${peerUrl}/token`,
            method: 'POST',
            headers: auth,
            body: 'grant_type=client_credentials',
            ...ac,
          }),
      );
      // The least work any design of SPEC's shape (HTTP gateway, NATS, auth-core recording the
      // token in PostgreSQL before answering) does per client_credentials token: Fastify + one
      // nats.js request, a raw responder that signs and group-commits like auth-core, nothing
      // else. Taken in turns with the peer, like Portcullis itself: whether this shape reaches the
      // peer says whether the target can be reached at all on this machine.
      const peerCcSlice = httpSlice(`${peerUrl}/token`, {
        method: 'POST',
        headers: auth,
        body: 'grant_type=client_credentials',
      });
      await phase(
        'turns.http.client_credentials',
        'turns',
        `in turns with peer.client_credentials (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): POST /oauth/token client_credentials, token recorded in PostgreSQL, ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.client_credentials' },
        () => inTurns({ ...TURNS, a: peerCcSlice, b: httpSlice(`${gw}/oauth/token`, ccRequest) }),
      );
      // A durable shape measured as Portcullis is: alone, then in turns with the peer.
      const shapePhases = (stem, what) => async (shapeUrl) => {
        await phase(`ceiling.${stem}.form`, 'ceiling', what, { concurrency: HTTP_CONNECTIONS }, () =>
          cannon({ url: shapeUrl, ...ccForm }),
        );
        await phase(
          `turns.${stem}.form`,
          'turns',
          `in turns with peer.client_credentials (${TURNS.rounds} rounds of ${TURNS.sliceMs / 1000} s each side): ${what}`,
          { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.client_credentials' },
          () => inTurns({ ...TURNS, a: peerCcSlice, b: httpSlice(shapeUrl, ccRequest) }),
        );
      };
      if (wanted('ceiling.durable_shape') || wanted('turns.durable_shape')) {
        const what = `the least work of SPEC's shape per recorded token: Fastify + one nats.js request per form POST (published at the end of the event-loop turn, as the gateway does) to a raw nats.js responder that records the token row and its audit row in PostgreSQL group-committed like auth-core (the requests of one event-loop turn in one statement, ≤ 3 statements in flight) and signs an ES256 JWT (node:crypto) while they commit, answering once both are done; no Nest, input checks or client lookup, ${HTTP_CONNECTIONS} connections`;
        await withShape(
          children,
          stack,
          {
            name: 'nats-record',
            script: 'nats-record.mjs',
            subjectName: 'bench.record',
            tables: [
              ['bench_rec_tokens', 'access_tokens'],
              ['bench_rec_audit', 'audit_events'],
            ],
            args: (subject) => [subject, stack.db.url, 'bench_rec_tokens', 'bench_rec_audit', '3'],
          },
          shapePhases('durable_shape', what),
        );
      }
      // The same, in the chosen stack: the Nest gateway and Nest NATS microservice of
      // ceiling.nest_shape.form, the core signing and recording each token as nats-record.mjs does.
      // No design in the stack the issues fix (Nest on both sides, class-validator on each input)
      // does less per token.
      if (wanted('ceiling.nest_durable_shape') || wanted('turns.nest_durable_shape')) {
        const what = `the chosen stack's least work of SPEC's shape per recorded token: the Nest gateway of ceiling.nest_shape.form (Fastify adapter, ValidationPipe on the form) and its Nest NATS microservice (class-validator on the payload), which records the token row and its audit row in PostgreSQL group-committed like auth-core and signs an ES256 JWT while they commit, answering once both are done; no client lookup, metrics or logging, ${HTTP_CONNECTIONS} connections`;
        const nestGateway = async (children_, subject) => {
          const port = await freePort();
          const child = await startServer(
            children_,
            'nest-shape-gateway',
            'nest-shape.mjs',
            ['gateway', String(port), subject],
            { NATS_URL },
          );
          return {
            url: `http://127.0.0.1:${port}/oauth/token`,
            stop: async () => {
              await child.stop();
              mem.untrack('nest-shape-gateway');
            },
          };
        };
        await withShape(
          children,
          stack,
          {
            name: 'nest-shape-core',
            script: 'nest-shape.mjs',
            subjectName: 'bench.nest-record',
            tables: [
              ['bench_nest_tokens', 'access_tokens'],
              ['bench_nest_audit', 'audit_events'],
            ],
            args: (subject) => ['core', subject, stack.db.url, 'bench_nest_tokens', 'bench_nest_audit'],
            front: nestGateway,
          },
          shapePhases('nest_durable_shape', what),
        );
      }
      await peer.stop();
      mem.untrack('oidc-provider');
    }

    // ============================================================ revocation on 2 replicas
    {
      log('starting a second auth-core replica for revocation propagation …');
      const second = await stack.startReplica();
      mem.track('auth-core#2', second.pid);
      const tokens = (await mint(REVOCATIONS)).map((r) => ({ token: r.access_token, tid: r.tid }));
      const adminSession = must(
        await http(gw).post('/api/v1/auth/login', { username: stack.adminUsername, password: stack.adminPassword }),
        200,
        'admin login',
      );
      const revokedBefore = await Promise.all(
        [0, 1].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
      );
      const RUN = 20;
      await phase(
        'pcl.revocation',
        'portcullis',
        `revocation propagation: DELETE /api/v1/tokens/{tid} answered → every replica refuses (2 replicas, ${REVOCATIONS} revocations)`,
        { concurrency: 2, replicas: 2 },
        async () => {
          const firstRefusal = new Recorder();
          const lastAcceptance = new Recorder();
          let refusedAtOnce = 0;
          let errors = 0;
          let gatewayAccepted = 0;
          let gatewayOther = 0;
          for (const { token, tid } of tokens) {
            const payload = Buffer.from(JSON.stringify({ token }));
            const res = await fetch(`${gw}/api/v1/tokens/${tid}`, {
              method: 'DELETE',
              headers: { authorization: `Bearer ${adminSession.access_token}` },
            });
            await res.arrayBuffer();
            const t0 = now();
            if (res.status !== 204 && res.status !== 200) {
              errors++;
              revocation.lastError ??= `DELETE answered ${res.status}`;
              continue;
            }
            // Poll with 2 requests in flight; NATS spreads them over both replicas at random.
            let consecutive = 0;
            let lastAccept = null;
            let refusalAfterLastAccept = null;
            let stop = false;
            const worker = async () => {
              while (!stop) {
                const m = await nc.request(validateSubject, payload, { timeout: 5000 });
                const t = now() - t0;
                if (m.json().valid) {
                  lastAccept = t;
                  refusalAfterLastAccept = null;
                  consecutive = 0;
                } else {
                  refusalAfterLastAccept ??= t;
                  if (++consecutive >= RUN) stop = true;
                }
                if (t > 5000) stop = true;
              }
            };
            // The gateway validates JWTs itself: the same token over REST, sent the moment the
            // DELETE has answered, must already be refused there too.
            const viaGateway = async () => {
              const g = await fetch(`${gw}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
              await g.arrayBuffer();
              if (g.status === 200) gatewayAccepted++;
              else if (g.status !== 401) gatewayOther++;
            };
            await Promise.all([worker(), worker(), viaGateway()]);
            if (consecutive < RUN) {
              errors++;
              continue;
            }
            firstRefusal.add(refusalAfterLastAccept);
            if (lastAccept === null) refusedAtOnce++;
            else lastAcceptance.add(lastAccept);
          }
          const revokedAfter = await Promise.all(
            [0, 1].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
          );
          Object.assign(revocation, {
            method:
              `after each DELETE answers, validate is polled over NATS with 2 requests in flight (queue group: each lands on a random replica) until ${RUN} consecutive refusals; ` +
              'the time recorded is that of the first refusal after the last acceptance',
            revocations: tokens.length,
            refusedOnFirstPoll: refusedAtOnce,
            gatewayAcceptedAfterRevoke: gatewayAccepted,
            gatewayOtherStatus: gatewayOther,
            lastAcceptance_p50_ms: round(lastAcceptance.percentile(50), 3),
            lastAcceptance_p99_ms: round(lastAcceptance.percentile(99), 3),
            lastAcceptance_max_ms: round(lastAcceptance.percentile(100), 3),
            refusalsCountedPerReplica: revokedAfter.map((v, i) => v - revokedBefore[i]),
          });
          return {
            ops: firstRefusal.n,
            errors,
            throughput: null,
            p50_ms: round(firstRefusal.percentile(50), 3),
            p99_ms: round(firstRefusal.percentile(99), 3),
            max_ms: round(firstRefusal.percentile(100), 3),
            ...(revocation.lastError ? { lastError: revocation.lastError } : {}),
          };
        },
        { retry: false },
      );
      mem.untrack('auth-core#2');
    }

    // ============================================================ memory
    const appRss = (names) => {
      const out = {};
      for (const r of rows.filter((x) => x.group === 'portcullis'))
        for (const n of names) if (r.peakRssMb?.[n]) out[n] = Math.max(out[n] ?? 0, r.peakRssMb[n]);
      return out;
    };
    memory.underLoad = appRss(['auth-core', 'auth-core#2', 'gateway', 'gateway#2']);
    rows.push({
      id: 'pcl.memory.idle',
      group: 'portcullis',
      name: 'RSS idle (started, before any request), MB',
      rssMb: memory.idle,
      throughput: null,
    });
    rows.push({
      id: 'pcl.memory.fixtures',
      group: 'portcullis',
      name: 'RSS after the fixtures (10,000 tokens minted; quiet again), MB',
      rssMb: memory.afterFixtures,
      throughput: null,
    });
    rows.push({
      id: 'pcl.memory.load',
      group: 'portcullis',
      name: 'peak RSS over the Portcullis phases, MB',
      rssMb: memory.underLoad,
      throughput: null,
    });

    // ============================================================ profiles where auth-core misses
    let targets = evaluateTargets(rows);
    if (PROFILE && targets.some((t) => !t.pass && t.profile)) {
      profiles = await profileMisses({ targets, loop, minted, sameToken });
    }
    targets = evaluateTargets(rows);

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
      },
      rows,
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
    heapProbe = null;
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    await stack.stop().catch((e) => console.error(`stack stop: ${e}`));
  }
}

/**
 * Re-runs each missed workload against a fresh stack whose auth-core and gateway run with
 * --cpu-prof, and summarises where each process spends its CPU time.
 */
async function profileMisses({ targets, loop }) {
  const root = join(ROOT, 'bench/profiles');
  rmSync(root, { recursive: true, force: true });
  const out = [];
  for (const t of targets.filter((x) => !x.pass && x.profile)) {
    const dir = join(root, t.profile);
    mkdirSync(join(dir, 'auth-core'), { recursive: true });
    mkdirSync(join(dir, 'gateway'), { recursive: true });
    const appEnv = process.env.BENCH_APP_ENV ? JSON.parse(process.env.BENCH_APP_ENV) : {};
    const stack = new Stack({ appEnv, gatewayNodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(dir, 'gateway')] });
    try {
      log(`profiling under ${t.profile} …`);
      await stack.start(1);
      const adm = must(
        await http(stack.url).post('/api/v1/auth/login', {
          username: stack.adminUsername,
          password: stack.adminPassword,
        }),
        200,
        'admin login',
      );
      const client = must(
        await http(stack.url, adm.access_token).post('/api/v1/clients', { clientId: 'bench-prof', roles: ['service'] }),
        201,
        'create client',
      );
      const ccPayload = JSON.stringify({ client_id: client.clientId, client_secret: client.client_secret });
      const tokens = [];
      await closedLoop({
        concurrency: 32,
        durationMs: 600_000,
        maxOps: t.profile === 'nats-validate-distinct' ? 10_000 : 200,
        op: async () =>
          tokens.push(
            (
              await stack.nc.request(stack.subject('auth.v1.oauth.client-credentials'), ccPayload, { timeout: 10000 })
            ).json().access_token,
          ),
      });
      const users = [];
      if (t.profile === 'password-login') {
        const pw = `Bench-${randomBytes(9).toString('base64url')}`;
        for (let i = 0; i < HTTP_CONNECTIONS; i++) {
          must(
            await http(stack.url, adm.access_token).post('/api/v1/users', {
              username: `prof-${i}`,
              password: pw,
              roles: ['user'],
            }),
            201,
            'create user',
          );
          users.push(JSON.stringify({ username: `prof-${i}`, password: pw }));
        }
      }
      const validateSubject = stack.subject('auth.v1.token.validate');
      const payloads = (list) => list.map((tk) => Buffer.from(JSON.stringify({ token: tk })));
      const workloads = {
        'nats-validate-same': () =>
          closedLoop({
            concurrency: 64,
            ...loop,
            op: natsRequester(stack.nc, validateSubject, payloads([tokens[0]]), (b) => b.valid),
          }),
        'nats-validate-distinct': () =>
          closedLoop({
            concurrency: 64,
            ...loop,
            op: natsRequester(stack.nc, validateSubject, payloads(tokens), (b) => b.valid),
          }),
        'http-validate': () =>
          cannon({
            url: `${stack.url}/api/v1/auth/validate`,
            headers: { authorization: `Bearer ${tokens[0]}` },
            connections: HTTP_CONNECTIONS,
            ...loop,
          }),
        'password-login': () => {
          let n = 0;
          return cannon({
            url: `${stack.url}/api/v1/auth/login`,
            connections: HTTP_CONNECTIONS,
            ...loop,
            requests: [
              {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                setupRequest: (req) => ({ ...req, body: users[n++ % users.length] }),
              },
            ],
          });
        },
        'client-credentials': () =>
          cannon({
            url: `${stack.url}/oauth/token`,
            method: 'POST',
            headers: {
              authorization: basic(client.clientId, client.client_secret),
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: 'grant_type=client_credentials',
            connections: HTTP_CONNECTIONS,
            ...loop,
          }),
      };
      // A replica that never served the fixtures takes the load, so its profile is the workload's.
      const fresh = await stack.startReplica(['--cpu-prof', '--cpu-prof-dir', join(dir, 'auth-core')]);
      await stack.stopReplica(0);
      const wStart = now();
      const r = await workloads[t.profile]();
      const wEnd = now();
      await stack.stop();
      const entry = { target: t.id, workload: t.profile, throughputWhileProfiled: r.throughput, processes: {} };
      for (const [p, child] of [
        ['auth-core', fresh],
        ['gateway', stack.gateway],
      ]) {
        const file = newestProfile(join(dir, p), child.pid);
        if (file) entry.processes[p] = summariseProfile(file, 12, [child.exitedAt - wStart, child.exitedAt - wEnd]);
      }
      out.push(entry);
    } catch (err) {
      out.push({ target: t.id, workload: t.profile, error: String(err?.stack ?? err) });
      await stack.stop().catch(() => undefined);
    }
  }
  return out;
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
