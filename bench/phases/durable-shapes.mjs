import { cannon } from '../lib/load.mjs';
import { freePort } from '../lib/procs.mjs';
import { NATS_URL } from '../lib/stack.mjs';
import { inTurns } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';

/**
 * The least work of SPEC's shape per recorded client_credentials token, raw (servers/nats-record.mjs
 * behind the forwarder) and in the chosen stack (servers/nest-shape.mjs on both sides), each alone
 * and in turns with the peer. Called by peer.mjs while the peer runs: `peerCcSlice` is its
 * client_credentials slice, `httpSlice(url, opts)` makes one for `url`.
 */
export async function durableShapes(b, stack, { peerCcSlice, httpSlice, ccRequest, ccForm }) {
  const { turns } = b.opts;
  // A durable shape measured as Portcullis is: alone, then in turns with the peer.
  const shapePhases = (stem, what) => async (shapeUrl) => {
    await b.phase(`ceiling.${stem}.form`, 'ceiling', what, { concurrency: HTTP_CONNECTIONS }, () =>
      cannon({ url: shapeUrl, ...ccForm }),
    );
    await b.phase(
      `turns.${stem}.form`,
      'turns',
      `in turns with peer.client_credentials (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): ${what}`,
      { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.client_credentials' },
      () => inTurns({ ...turns, a: peerCcSlice, b: httpSlice(shapeUrl, ccRequest) }),
    );
  };
  if (b.wanted('ceiling.durable_shape') || b.wanted('turns.durable_shape')) {
    const what = `the least work of SPEC's shape per recorded token: Fastify + one nats.js request per form POST (published at the end of the event-loop turn, as the gateway does) to a raw nats.js responder that records the token row and its audit row in PostgreSQL group-committed like auth-core (the requests of one event-loop turn in one statement, ≤ 3 statements in flight) and signs an ES256 JWT (node:crypto) while they commit, answering once both are done; no Nest, input checks or client lookup, ${HTTP_CONNECTIONS} connections`;
    await b.withShape(
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
  if (b.wanted('ceiling.nest_durable_shape') || b.wanted('turns.nest_durable_shape')) {
    const what = `the chosen stack's least work of SPEC's shape per recorded token: the Nest gateway of ceiling.nest_shape.form (Fastify adapter, ValidationPipe on the form) and its Nest NATS microservice (class-validator on the payload), which records the token row and its audit row in PostgreSQL group-committed like auth-core and signs an ES256 JWT while they commit, answering once both are done; no client lookup, metrics or logging, ${HTTP_CONNECTIONS} connections`;
    const nestGateway = async (subject) => {
      const port = await freePort();
      const child = await b.startServer('nest-shape-gateway', 'nest-shape.mjs', ['gateway', String(port), subject], {
        NATS_URL,
      });
      return {
        url: `http://127.0.0.1:${port}/oauth/token`,
        stop: async () => {
          await child.stop();
          b.mem.untrack('nest-shape-gateway');
        },
      };
    };
    await b.withShape(
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
}
