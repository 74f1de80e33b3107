/**
 * The least work any gateway→NATS→auth-core design must do per client_credentials token when the
 * token is recorded before it is answered (SPEC §3): a raw nats.js responder that signs an ES256
 * JWT with node:crypto and records the token row and its audit row in PostgreSQL, group-committed
 * the way auth-core's TokenRecordWriter does it (every request of an event-loop turn in one
 * statement, at most 3 statements in flight), and answers once the statement has committed.
 * Nothing else: no Nest, no input checks, no client lookup or secret check, no metrics.
 * In front of it, servers/http-nats-forward.mjs (Fastify + one nats.js request per POST).
 *
 * argv: subject, database URL, token table, audit table, statements in flight. Env: NATS_URL.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { connectNats, es256Signer, serveUntilTerm } from './shape-kit.mjs';

const [subject, dbUrl, tokenTable, auditTable, inFlight = '3'] = process.argv.slice(2);
const MAX_FLUSHES = Number(inFlight);
const MAX_BATCH = 256;
const pool = new pg.Pool({ connectionString: dbUrl, max: MAX_FLUSHES });
const nc = await connectNats('bench-record');
const signJwt = es256Signer();
const tokenCols = 'tid, sub, cid, rcid, typ, roles, tenants, created_at, expires_at, revoked';
const auditCols = 'id, type, actor, subject, success, data, created_at';
const sql = `WITH tokens AS (
    INSERT INTO ${tokenTable} (${tokenCols}) SELECT ${tokenCols} FROM json_populate_recordset(NULL::${tokenTable}, $1::json)
  )
  INSERT INTO ${auditTable} (${auditCols}) SELECT ${auditCols} FROM json_populate_recordset(NULL::${auditTable}, $2::json)`;

let queue = [];
let flushing = 0;
let flushDue = false;

function flush() {
  while (flushing < MAX_FLUSHES && queue.length) {
    const batch = queue.splice(0, MAX_BATCH);
    flushing++;
    pool
      .query(sql, [JSON.stringify(batch.map((p) => p.token)), JSON.stringify(batch.map((p) => p.audit))])
      .then(
        () => batch.forEach((p) => p.msg.respond(p.reply)),
        (err) => {
          // The forwarder cannot tell a failure from a token, so a failed statement ends the
          // process: its requests then time out and the phase counts them as errors.
          process.stderr.write(`${err?.stack ?? err}\n`);
          process.exit(1);
        },
      )
      .finally(() => {
        flushing--;
        flush();
      });
  }
}

nc.subscribe(subject, {
  queue: 'bench-record',
  callback: (_err, msg) => {
    const now = Math.floor(Date.now() / 1000);
    const tid = randomUUID();
    const claims = { iss: 'bench', sub: 'bench', aud: 'bench', cid: 'bench', typ: 'client', roles: ['service'] };
    const accessToken = signJwt({ ...claims, tid, iat: now, exp: now + 900 });
    const at = new Date(now * 1000).toISOString();
    const exp = new Date((now + 900) * 1000).toISOString();
    queue.push({
      msg,
      reply: JSON.stringify({
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 900,
      }),
      token: {
        tid,
        sub: 'bench',
        cid: 'bench',
        rcid: 'bench',
        typ: 'client',
        roles: ['service'],
        tenants: [],
        created_at: at,
        expires_at: exp,
        revoked: false,
      },
      audit: {
        id: randomUUID(),
        type: 'token.issued',
        actor: 'bench',
        subject: tid,
        success: true,
        data: { grant: 'client_credentials' },
        created_at: at,
      },
    });
    // Like the app: the first token of a turn waits for the rest of that turn's requests.
    if (!flushDue) {
      flushDue = true;
      setImmediate(() => {
        flushDue = false;
        flush();
      });
    }
  },
});
await serveUntilTerm(nc, pool);
