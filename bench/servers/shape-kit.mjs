/**
 * What the least-work servers share: libs/nats-options' atTurnEnd and NATS options (those files
 * are TypeScript; these servers run as plain ESM), and an ES256 signer for the shapes that issue
 * tokens.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { connect } from '@nats-io/transport-node';

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
