/**
 * The distinct-token ceiling's responder: the least any NATS validator must do per request —
 * parse `{token}`, split the JWT, verify its ES256 signature with node:crypto (KeyObject, sync) —
 * and answer with a prepared reply the size of a real one. No claims checks, no revocation, no
 * metrics. With `workers` > 0 the signatures are verified on that many worker threads (chunks of 8,
 * round robin), the main thread only doing NATS I/O: what a verify pool could give at best.
 * argv: subject, reply size in bytes, JWK of the public key (JSON), workers.
 */
import { connect } from '@nats-io/transport-node';
import { createPublicKey, verify } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const verifyOne = (key, token) => {
  const dot2 = token.lastIndexOf('.');
  return verify(
    'sha256',
    Buffer.from(token.slice(0, dot2)),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(token.slice(dot2 + 1), 'base64url'),
  );
};

if (!isMainThread) {
  const key = createPublicKey({ key: workerData.jwk, format: 'jwk' });
  parentPort.on('message', ({ id, tokens }) =>
    parentPort.postMessage({ id, ok: tokens.map((t) => verifyOne(key, t)) }),
  );
} else {
  const [subject, size, jwkJson, workersArg] = process.argv.slice(2);
  const jwk = JSON.parse(jwkJson);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-verify' });
  const reply = Buffer.from(JSON.stringify({ valid: true, pad: 'x'.repeat(Math.max(0, Number(size) - 26)) }));
  const refused = Buffer.from('{"valid":false}');
  const decoder = new TextDecoder();
  const tokenOf = (msg) => JSON.parse(decoder.decode(msg.data)).token;
  const workers = Array.from(
    { length: Number(workersArg) || 0 },
    () => new Worker(new URL(import.meta.url), { workerData: { jwk } }),
  );
  if (workers.length === 0) {
    // Answered 8 at a time, each 8 replies written before the next 8 are verified: auth-core's
    // validate handler does the same (one burst answered at once leaves both sides idle in turn).
    const queue = [];
    const work = () => {
      for (const msg of queue.splice(0, 8)) msg.respond(verifyOne(key, tokenOf(msg)) ? reply : refused);
      if (queue.length) setImmediate(work);
    };
    nc.subscribe(subject, {
      queue: 'bench-verify',
      callback: (_err, msg) => {
        if (queue.push(msg) === 1) setImmediate(work);
      },
    });
  } else {
    const pending = new Map();
    let nextId = 0;
    let next = 0;
    let batch = [];
    for (const w of workers)
      w.on('message', ({ id, ok }) => {
        const msgs = pending.get(id);
        pending.delete(id);
        msgs.forEach((m, i) => m.respond(ok[i] ? reply : refused));
      });
    const flush = () => {
      const msgs = batch;
      batch = [];
      const id = nextId++;
      pending.set(id, msgs);
      workers[next++ % workers.length].postMessage({ id, tokens: msgs.map(tokenOf) });
    };
    // Chunks of CHUNK go out as they fill, so the workers start while the main thread still reads.
    const CHUNK = 8;
    nc.subscribe(subject, {
      queue: 'bench-verify',
      callback: (_err, msg) => {
        if (batch.length === 0) queueMicrotask(() => batch.length && flush());
        batch.push(msg);
        if (batch.length >= CHUNK) flush();
      },
    });
  }
  await nc.flush();
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    await nc.drain();
    await Promise.all(workers.map((w) => w.terminate()));
    process.exit(0);
  });
}
