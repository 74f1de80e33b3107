/**
 * The least work any gateway→NATS→auth-core design must do per client_credentials token when the
 * token is recorded before it is answered (SPEC §3): a raw nats.js responder that records the
 * token row and its audit row in PostgreSQL, group-committed the way auth-core's TokenRecordWriter
 * does it (every request of an event-loop turn in one prepared statement, at most 3 statements in
 * flight), signs an ES256 JWT with node:crypto while they commit, and answers once both are done.
 * Nothing else: no Nest, no input checks, no client lookup or secret check, no metrics.
 * In front of it, servers/http-nats-forward.mjs (Fastify + one nats.js request per POST).
 *
 * argv: subject, database URL, token table, audit table, statements in flight. Env: NATS_URL.
 */
import { connectNats, es256Signer, groupCommitRecorder, issueRecorded, serveUntilTerm } from './shape-kit.mjs';

const [subject, dbUrl, tokenTable, auditTable, inFlight = '3'] = process.argv.slice(2);
const { record, pool } = groupCommitRecorder(dbUrl, tokenTable, auditTable, Number(inFlight));
const nc = await connectNats('bench-record');
const signJwt = es256Signer();

nc.subscribe(subject, {
  queue: 'bench-record',
  callback: (_err, msg) => {
    void issueRecorded(record, signJwt).then((reply) => msg.respond(JSON.stringify(reply)));
  },
});
await serveUntilTerm(nc, pool);
