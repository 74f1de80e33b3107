/**
 * The least work any gateway→NATS→auth-core design must do per password login (SPEC §3): a raw
 * nats.js responder that reads the user's row (one prepared statement), verifies the password
 * with argon2id (@node-rs/argon2, the stored hash's parameters, scheduled as auth-core does: libuv's
 * pool sized to the CPUs by the bench (UV_THREADPOOL_SIZE), two hashes per pool thread in flight so a
 * thread starts the next without this process's main thread; the rest wait in arrival order as
 * auth-core runs them), signs an ES256 access token with node:crypto, records the access token,
 * the refresh token (its SHA-256 only) and the audit row in one statement, and answers.
 * Nothing else: no Nest, input checks, lockout or throttling, no metrics or logging.
 * In front of it, servers/http-nats-forward.mjs (Fastify + one nats.js request per POST).
 *
 * argv: subject, database URL, token table, refresh-token table, audit table. Env: NATS_URL, and
 * SHAPE_SLOTS to try another number of hashes at a time (the bench passes its own through).
 */
import { availableParallelism } from 'node:os';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { connectNats, es256Signer, serveUntilTerm } from './shape-kit.mjs';

const [subject, dbUrl, tokenTable, refreshTable, auditTable] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
const nc = await connectNats('bench-login');
const signJwt = es256Signer();

const findUser = {
  name: 'bench-login-user',
  text: 'SELECT id, password_hash, roles, tenants, enabled FROM users WHERE username_normalized = $1',
};
const record = {
  name: 'bench-login-record',
  text: `WITH access AS (
      INSERT INTO ${tokenTable} (tid, sub, cid, rcid, typ, roles, tenants, family_id, user_id, created_at, expires_at, revoked)
      VALUES ($1, $2::text, 'portcullis', 'portcullis', 'user', $3, $4, $5, $2::text::uuid, now(), now() + interval '15 minutes', false)
    ), refresh AS (
      INSERT INTO ${refreshTable} (token_hash, family_id, user_id, cid, rcid, created_at, expires_at)
      VALUES ($6, $5, $2::text::uuid, 'portcullis', 'portcullis', now(), now() + interval '30 days')
    )
    INSERT INTO ${auditTable} (id, type, actor, subject, success, data, created_at)
    VALUES ($7, 'login.succeeded', $2::text, $2::text, true, '{}', now())`,
};

// Two hashes per pool thread in flight, the rest waiting in arrival order (as auth-core's PasswordHasher).
const slots = Number(process.env.SHAPE_SLOTS || 2 * availableParallelism());
let running = 0;
const waiting = [];
async function hashTurn(fn) {
  if (running >= slots) await new Promise((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function login(body) {
  const { rows } = await pool.query({ ...findUser, values: [String(body.username).toLowerCase()] });
  const user = rows[0];
  // Every bench login is a good one: a refusal is the bench's own mistake, reported as a failure.
  if (!user?.enabled || !(await hashTurn(() => verify(user.password_hash, String(body.password)))))
    throw new Error(`login refused for ${body.username}`);
  const now = Math.floor(Date.now() / 1000);
  const tid = randomUUID();
  const familyId = randomUUID();
  const claims = { iss: 'bench', sub: user.id, aud: 'bench', cid: 'portcullis', typ: 'user', roles: user.roles };
  const accessToken = signJwt({ ...claims, tenants: user.tenants, tid, iat: now, exp: now + 900 });
  const refresh = randomBytes(32).toString('base64url');
  await pool.query({
    ...record,
    values: [
      tid,
      user.id,
      user.roles,
      user.tenants,
      familyId,
      createHash('sha256').update(refresh).digest(),
      randomUUID(),
    ],
  });
  return { access_token: accessToken, refresh_token: refresh, expires_in: 900 };
}

nc.subscribe(subject, {
  queue: 'bench-login',
  callback: (_err, msg) => {
    login(msg.json().body).then(
      (reply) => msg.respond(JSON.stringify(reply)),
      (err) => {
        // The forwarder cannot tell a failure from an answer, so a failure ends the process: its
        // requests then time out and the phase counts them as errors.
        process.stderr.write(`${err?.stack ?? err}\n`);
        process.exit(1);
      },
    );
  },
});
await serveUntilTerm(nc, pool);
