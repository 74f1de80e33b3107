import { availableParallelism } from 'node:os';
import { cannon } from '../lib/load.mjs';
import { closedLoop, inTurns } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';
import { NATS_URL } from '../lib/stack.mjs';

const LOGIN_DRAIN_MS = 2000;

/**
 * Password login: through the gateway, alone and in turns with the argon2 ceiling; auth-core alone
 * behind the least-work forwarder; and the least work of SPEC's shape per login. `argonOp`: the
 * argon2 ceiling's op (ceilings-crypto.mjs).
 */
export async function login(b, stack, fx, { argonOp }) {
  const { gw, nc, loginUsers, loginBody } = fx;
  const { warmupMs, measureMs } = b.opts;
  const turns = b.opts.loginTurns;
  // The smoke run only proves the code paths: a short drain is enough there.
  const drainMs = b.opts.smoke ? 500 : LOGIN_DRAIN_MS;
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
      ...turns,
      a: (durationMs) => closedLoop({ concurrency: 4, durationMs, warmupMs: 250, op: argonOp }),
      b: async (durationMs) => {
        const r = await loginsAt(url)({
          connections: HTTP_CONNECTIONS,
          warmupMs: 500,
          drainMs,
          durationMs,
        });
        await new Promise((res) => setTimeout(res, drainMs));
        return r;
      },
    });
  await b.phase(
    'pcl.http.login',
    'portcullis',
    `POST /api/v1/auth/login (argon2id), ${HTTP_CONNECTIONS} connections over ${loginUsers.length} users`,
    { concurrency: HTTP_CONNECTIONS },
    () =>
      loginsAt(`${gw}/api/v1/auth/login`)({
        ...b.httpLoop,
        // argon2 is slow: the smoke run needs a few seconds to complete any login at all, and the
        // 32 logins abandoned by the warm-up take a moment to drain.
        warmupMs: Math.min(warmupMs, 1000),
        drainMs: 2000,
        durationMs: Math.max(measureMs, 3000),
      }),
    // Whether the hashes got the CPU they were ready to use: see the login bound in targets.mjs.
    { threadsOf: () => stack.replicas[0].pid },
  );
  // Login against the argon2 ceiling in turns (loginTurns).
  await b.phase(
    'turns.http.login',
    'turns',
    `in turns with ceiling.argon2.2cores (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): POST /api/v1/auth/login, ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
    loginTurns(`${gw}/api/v1/auth/login`),
  );

  // auth-core alone under logins: the least-work forwarder (Fastify, one nats.js request with the
  // JSON body as it came) in front of the real auth-core, in turns with the argon2 ceiling; with
  // turns.http.login and turns.login_shape it says which app the login gap is in.
  if (b.wanted('turns.http.login.core_alone')) {
    const fwd = await b.startForwarder(stack.subject('auth.v1.login'), 'body');
    try {
      await b.phase(
        'turns.http.login.core_alone',
        'turns',
        `in turns with ceiling.argon2.2cores (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): auth-core alone — password logins through the least-work forwarder (Fastify, one nats.js request per JSON POST, the body as it came) to the real auth-core, ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
        loginTurns(fwd.url),
      );
    } finally {
      await fwd.stop();
    }
  }

  // The gateway alone under logins: a second gateway (same build) in front of a responder that
  // answers every login with the bytes of one real login reply (servers/nats-noop.mjs). No hash
  // keeps the machine busy, so this is the gateway's own CPU per login on a machine with room, to
  // set beside its share in pcl.http.login.
  if (b.wanted('pcl.http.login.gateway_alone')) {
    const prefix2 = `${stack.prefix}gwlogin.`;
    const reply = (await nc.request(stack.subject('auth.v1.login'), loginBody(), { timeout: 10000 })).data;
    if (!JSON.parse(Buffer.from(reply).toString()).access_token) throw new Error('the sample login failed');
    const noop = await b.startServer(
      'login-noop',
      'nats-noop.mjs',
      [`${prefix2}auth.v1.login`, Buffer.from(reply).toString('base64')],
      { NATS_URL },
    );
    const gw2 = await stack.startGateway('gateway#2', prefix2);
    b.mem.track('gateway#2', gw2.child.pid);
    try {
      await b.phase(
        'pcl.http.login.gateway_alone',
        'portcullis',
        `the gateway alone: POST /api/v1/auth/login on a second gateway (same build) in front of a responder answering each login with one real login reply (no hash, database or auth-core), ${HTTP_CONNECTIONS} connections`,
        { concurrency: HTTP_CONNECTIONS },
        () => loginsAt(`${gw2.url}/api/v1/auth/login`)(b.httpLoop),
      );
    } finally {
      await gw2.stop();
      b.mem.untrack('gateway#2');
      await noop.stop();
      b.mem.untrack('login-noop');
    }
  }

  // The least work any design of SPEC's shape does per password login (servers/nats-login.mjs
  // behind the forwarder: read the user, argon2id, sign, record the session in one statement),
  // in turns with the argon2 ceiling like the login row: whether 85 % is reachable at all here.
  if (b.wanted('ceiling.login_shape') || b.wanted('turns.login_shape')) {
    const what = `the least work of SPEC's shape per password login: Fastify + one nats.js request per JSON POST to a raw nats.js responder that reads the user (one prepared statement), verifies argon2id (scheduled as auth-core: a pool thread per CPU, two hashes per thread in flight), signs an ES256 access token and records it, the refresh token's hash and the audit row in one statement; no Nest, input checks, lockout or throttling, ${HTTP_CONNECTIONS} connections`;
    const tables = [
      ['bench_login_tokens', 'access_tokens'],
      ['bench_login_refresh', 'refresh_tokens'],
      ['bench_login_audit', 'audit_events'],
    ];
    await b.withShape(
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
        await b.phase('ceiling.login_shape', 'ceiling', what, { concurrency: HTTP_CONNECTIONS }, () =>
          loginsAt(shapeUrl)({
            connections: HTTP_CONNECTIONS,
            warmupMs: Math.min(warmupMs, 1000),
            drainMs,
            durationMs: Math.max(measureMs, 3000),
          }),
        );
        await b.phase(
          'turns.login_shape',
          'turns',
          `in turns with ceiling.argon2.2cores (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): ${what}`,
          { concurrency: HTTP_CONNECTIONS, pairedWith: 'ceiling.argon2.2cores' },
          loginTurns(shapeUrl),
        );
      },
    );
  }
}
