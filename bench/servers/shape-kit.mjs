/**
 * What the least-work servers share: libs/nats-options' atTurnEnd and NATS options (those files
 * are TypeScript; these servers run as plain ESM), and an ES256 signer for the shapes that issue
 * tokens.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { connect, createInbox } from '@nats-io/transport-node';
import pg from 'pg';

let queued = [];
/** Runs `fn` at the end of this event-loop turn with everything else queued in it (one socket write). */
export function atTurnEnd(fn) {
  if (queued.push(fn) > 1) return;
  setImmediate(() => {
    const due = queued;
    queued = [];
    for (const f of due) f();
  });
}

export const connectNats = (name) =>
  connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name, noAsyncTraces: true });

/** A fresh P-256 key; returns claims → compact JWS (ES256, node:crypto). */
export function es256Signer() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = b64({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' });
  return (claims) => {
    const input = `${header}.${b64(claims)}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  };
}

/** Says ready to the bench, and drains NATS and closes the pool on SIGTERM. */
export async function serveUntilTerm(nc, pool) {
  await nc.flush();
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    await nc.drain();
    await pool.end();
    process.exit(0);
  });
}

/**
 * nc.request without nats.js's per-request cost (an Error with a stack trace built for every
 * answered request, and a timer): one wildcard inbox subscription and a map, as the gateway's
 * RequestMux does, so a least-work shape is never dearer than the app on this step.
 * Returns (subject, data) → Promise<Msg>; a request unanswered after `timeoutMs` fails.
 */
export function requestMux(nc, timeoutMs = 5000) {
  const inbox = `${createInbox()}.`;
  const pending = new Map();
  let seq = 0;
  nc.subscribe(`${inbox}*`, {
    callback: (_err, msg) => {
      const token = msg.subject.slice(inbox.length);
      const p = pending.get(token);
      if (!p) return;
      pending.delete(token);
      if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new Error('no responders'));
      else p.resolve(msg);
    },
  });
  setInterval(() => {
    const now = performance.now();
    for (const [token, p] of pending) {
      if (p.deadline > now) break;
      pending.delete(token);
      p.reject(new Error('timeout'));
    }
  }, 50).unref();
  return (subject, data) =>
    new Promise((resolve, reject) => {
      const token = (seq++).toString(36);
      pending.set(token, { resolve, reject, deadline: performance.now() + timeoutMs });
      nc.publish(subject, data, { reply: inbox + token });
    });
}

/**
 * Records client_credentials tokens the way auth-core's TokenRecordWriter does: the token row and
 * its audit row of every request of an event-loop turn in one statement (prepared once per
 * connection), at most `maxFlushes` statements in flight. `record(token, audit)` resolves once
 * committed. A failed statement ends the process: the caller cannot tell a failure from a token,
 * so its requests then time out and the phase counts them as errors.
 */
export function groupCommitRecorder(dbUrl, tokenTable, auditTable, maxFlushes = 3) {
  const pool = new pg.Pool({ connectionString: dbUrl, max: maxFlushes });
  const tokenCols = 'tid, sub, cid, rcid, typ, roles, tenants, created_at, expires_at, revoked';
  const auditCols = 'id, type, actor, subject, success, data, created_at';
  const text = `WITH tokens AS (
      INSERT INTO ${tokenTable} (${tokenCols}) SELECT ${tokenCols} FROM json_populate_recordset(NULL::${tokenTable}, $1::json)
    )
    INSERT INTO ${auditTable} (${auditCols}) SELECT ${auditCols} FROM json_populate_recordset(NULL::${auditTable}, $2::json)`;
  let queue = [];
  let flushing = 0;
  let flushDue = false;
  const flush = () => {
    while (flushing < maxFlushes && queue.length) {
      const batch = queue.splice(0, 256);
      flushing++;
      const values = [JSON.stringify(batch.map((p) => p.token)), JSON.stringify(batch.map((p) => p.audit))];
      pool
        .query({ name: 'record-batch', text, values })
        .then(
          () => batch.forEach((p) => p.resolve()),
          (err) => {
            process.stderr.write(`${err?.stack ?? err}\n`);
            process.exit(1);
          },
        )
        .finally(() => {
          flushing--;
          flush();
        });
    }
  };
  const record = (token, audit) =>
    new Promise((resolve) => {
      queue.push({ token, audit, resolve });
      // Like the app: the first token of a turn waits for the rest of that turn's requests.
      if (!flushDue) {
        flushDue = true;
        setImmediate(() => {
          flushDue = false;
          flush();
        });
      }
    });
  return { record, pool };
}

/**
 * A client_credentials token as the shapes issue it, answered once its rows are committed: the
 * rows go to `record` first and the JWT is signed while they commit (setImmediate: after the
 * turn-end statement has gone out), as auth-core does (TokenRecordWriter.whileCommitting).
 */
export function issueRecorded(record, signJwt) {
  const now = Math.floor(Date.now() / 1000);
  const tid = randomUUID();
  const claims = { iss: 'bench', sub: 'bench', aud: 'bench', cid: 'bench', typ: 'client', roles: ['service'] };
  const at = new Date(now * 1000).toISOString();
  const recorded = record(
    {
      tid,
      sub: 'bench',
      cid: 'bench',
      rcid: 'bench',
      typ: 'client',
      roles: ['service'],
      tenants: [],
      created_at: at,
      expires_at: new Date((now + 900) * 1000).toISOString(),
      revoked: false,
    },
    {
      id: randomUUID(),
      type: 'token.issued',
      actor: 'bench',
      subject: tid,
      success: true,
      data: { grant: 'client_credentials' },
      created_at: at,
    },
  );
  const signed = new Promise((resolve) =>
    setImmediate(() => resolve(signJwt({ ...claims, tid, iat: now, exp: now + 900 }))),
  );
  return Promise.all([signed, recorded]).then(([access_token]) => ({
    access_token,
    token_type: 'Bearer',
    expires_in: 900,
  }));
}
