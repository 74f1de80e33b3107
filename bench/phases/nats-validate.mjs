import { NATS_URL } from '../lib/stack.mjs';
import { closedLoop, inTurns, syncLoop } from '../lib/stats.mjs';
import { decodeJwt, natsRequester } from '../lib/wire.mjs';
import { startNoop } from './ceilings-transport.mjs';

/**
 * Portcullis' auth.v1.token.validate over NATS: the same token and distinct tokens, 1 and 64 in
 * flight; the ratio targets' rows again in turns with their ceilings (and the least-work
 * validator in turns with the same ceiling); the distinct-token load on a VERIFY_WORKERS=2
 * replica. `es256Op`: the ES256 ceiling's op (ceilings-crypto.mjs).
 */
export async function natsValidate(b, stack, fx, { es256Op }) {
  const { nc, validateSubject, samePayload, sameToken, distinctPayloads, sampleReply, jwks } = fx;
  const { turns } = b.opts;
  const loop = b.loop;
  const valid = (r) => r.valid === true;
  for (const [kind, payloads] of [
    ['same', samePayload],
    ['distinct', distinctPayloads],
  ])
    for (const c of [1, 64])
      await b.phase(
        `pcl.nats.validate.${kind}.c${c}`,
        'portcullis',
        `auth.v1.token.validate over NATS, ${kind === 'same' ? 'the same token' : `${payloads.length} distinct tokens`}, ${c} in flight`,
        { concurrency: c },
        () => closedLoop({ concurrency: c, ...loop, op: natsRequester(nc, validateSubject, payloads, valid) }),
      );
  // The ratio targets again, each side taken in turns with its ceiling in short slices (see
  // inTurns): the phases above are a minute or more apart on a machine whose speed drifts.
  const es256Slice = (durationMs) => syncLoop({ durationMs, warmupMs: turns.warmupMs, op: es256Op });
  const natsSlice = (subject, payloads) => (durationMs) =>
    closedLoop({
      concurrency: 64,
      durationMs,
      warmupMs: turns.warmupMs,
      op: natsRequester(nc, subject, payloads, valid),
    });
  {
    const { subject, stop: stopNoop } = await startNoop(b, stack, fx);
    await b.phase(
      'turns.nats.validate.same.c64',
      'turns',
      `in turns with ceiling.nats.c64 (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, the same token, 64 in flight`,
      { concurrency: 64, pairedWith: 'ceiling.nats.c64' },
      () => inTurns({ ...turns, a: natsSlice(subject, samePayload), b: natsSlice(validateSubject, samePayload) }),
    );
    await stopNoop();
  }
  // The least-work validator (servers/nats-verify.mjs, inline) in turns with the same ceiling:
  // what the distinct-token target allows at all on this machine, measured the way it is judged.
  for (const workers of [0, 2]) {
    const id = workers ? `turns.nats_verify.workers${workers}.c64` : 'turns.nats_verify.c64';
    if (!b.wanted(id)) continue;
    const jwk = JSON.stringify(jwks.find((k) => k.kid === decodeJwt(sameToken).header.kid));
    const subject = stack.subject(`bench.verify-turns${workers}`);
    const verifier = await b.startServer(
      'nats-verify',
      'nats-verify.mjs',
      [subject, String(sampleReply.length), jwk, String(workers)],
      { NATS_URL },
    );
    try {
      await b.phase(
        id,
        'turns',
        `in turns with ceiling.es256.crypto (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): the raw nats.js responder of ceiling.nats_verify${workers ? `.workers${workers}` : ''}.c64 (parse, verify ${workers ? `on ${workers} worker threads` : 'inline'}, reply; no other work), ${distinctPayloads.length} distinct tokens, 64 in flight`,
        { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
        () => inTurns({ ...turns, a: es256Slice, b: natsSlice(subject, distinctPayloads) }),
      );
    } finally {
      await verifier.stop();
      b.mem.untrack('nats-verify');
    }
  }
  await b.phase(
    'turns.nats.validate.distinct.c64',
    'turns',
    `in turns with ceiling.es256.crypto (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, ${distinctPayloads.length} distinct tokens, 64 in flight`,
    { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
    () => inTurns({ ...turns, a: es256Slice, b: natsSlice(validateSubject, distinctPayloads) }),
  );
  // The same distinct-token load on a replica whose validations are served by worker threads
  // (VERIFY_WORKERS=2, for a replica with 2+ CPUs; the shipped default is the main thread): its own
  // subject prefix, same database and keys, started for this row only.
  {
    const side = await stack.startSidecar('auth-core-w2', { VERIFY_WORKERS: '2' });
    b.mem.track('auth-core-w2', side.child.pid);
    try {
      await b.phase(
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
      await b.phase(
        'turns.nats.validate.distinct.workers2.c64',
        'turns',
        `in turns with ceiling.es256.crypto (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): auth.v1.token.validate over NATS, ${distinctPayloads.length} distinct tokens, 64 in flight, VERIFY_WORKERS=2`,
        { concurrency: 64, pairedWith: 'ceiling.es256.crypto' },
        () =>
          inTurns({
            ...turns,
            a: es256Slice,
            b: natsSlice(side.subject('auth.v1.token.validate'), distinctPayloads),
          }),
      );
    } finally {
      b.mem.untrack('auth-core-w2');
      await side.stop();
    }
  }
}
