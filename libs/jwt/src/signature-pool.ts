import { Worker } from 'node:worker_threads';
import { SigningAlgorithm, verifySignature } from './jwt-codec';
import { TokenVerifier } from './token-verifier';

/**
 * The worker's whole program. It is evaluated from this string, not loaded from a file, so the
 * same code runs from the build, from ts sources under jest and from a bundle. Its verify is
 * jwt-codec's verifySignature, line for line (the unit spec checks both agree, good and bad).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { verify } = require('node:crypto');
let keys = new Map();
const check = (kid, alg, input, segment) => {
  const key = keys.get(kid);
  if (!key || key.alg !== alg) return false;
  const signature = Buffer.from(segment, 'base64url');
  if (alg === 'ES256') {
    if (signature.length !== 64) return false;
    return verify('sha256', Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
  }
  return verify(null, Buffer.from(input), key.key, signature);
};
parentPort.on('message', (m) => {
  if (m.keys) {
    keys = new Map(m.keys.map((k) => [k.kid, k]));
    return;
  }
  // m.jobs: kid, alg, signing input, signature (base64url), four strings per job.
  const ok = [];
  for (let i = 0; i < m.jobs.length; i += 4) {
    try {
      ok.push(check(m.jobs[i], m.jobs[i + 1], m.jobs[i + 2], m.jobs[i + 3]));
    } catch {
      ok.push(false);
    }
  }
  parentPort.postMessage({ id: m.id, ok });
});
`;

interface Job {
  kid: string;
  alg: SigningAlgorithm;
  input: string;
  /** base64url, as in the token: strings cross to a worker at a fraction of a buffer's cost. */
  signature: string;
  resolve: (ok: boolean) => void;
}

interface Lane {
  worker: Worker;
  /** Jobs sent and not answered, by message id. */
  inFlight: Map<number, Job[]>;
  keysVersion: number;
  busy: number;
}

/** Jobs per message: enough to spread the hand-off cost, small enough to keep both workers busy. */
const CHUNK = 8;

/**
 * Verifies signatures on worker threads, so a replica with more than one CPU verifies tokens in
 * parallel while its main thread does the NATS I/O and the rest of the validation. Only the
 * signature check moves: the header, key choice and claims are judged on the main thread by the
 * same TokenVerifier as always. Each worker holds a copy of the key ring, sent before any job that
 * needs it (messages to one worker arrive in order). A worker that dies fails its jobs closed
 * (false: the token is refused) and is replaced.
 */
export class SignaturePool {
  private readonly lanes: Lane[] = [];
  private queued: Job[] = [];
  private flushScheduled = false;
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly verifier: TokenVerifier,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.lanes.push(this.spawn());
  }

  get size(): number {
    return this.lanes.length;
  }

  verify(kid: string, alg: SigningAlgorithm, input: string, signature: string): Promise<boolean> {
    if (this.closed || this.lanes.length === 0) {
      const key = this.verifier.keyFor(kid);
      return Promise.resolve(
        !!key && key.alg === alg && verifySignature(alg, key.key, input, Buffer.from(signature, 'base64url')),
      );
    }
    return new Promise((resolve) => {
      this.queued.push({ kid, alg, input, signature, resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Everything queued in this tick goes out in chunks, each to the least busy worker. */
  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.queued;
    this.queued = [];
    for (let i = 0; i < jobs.length; i += CHUNK) {
      const chunk = jobs.slice(i, i + CHUNK);
      const lane = this.lanes.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (lane.keysVersion !== this.verifier.keysVersion) {
        lane.keysVersion = this.verifier.keysVersion;
        lane.worker.postMessage({
          keys: this.verifier.listKeys().map((k) => ({ kid: k.kid, alg: k.alg, key: k.key })),
        });
      }
      const id = this.nextId++;
      lane.inFlight.set(id, chunk);
      lane.busy += chunk.length;
      lane.worker.postMessage({ id, jobs: chunk.flatMap((j) => [j.kid, j.alg, j.input, j.signature]) });
    }
  }

  private spawn(): Lane {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const lane: Lane = { worker, inFlight: new Map(), keysVersion: -1, busy: 0 };
    worker.on('message', ({ id, ok }: { id: number; ok: boolean[] }) => {
      const chunk = lane.inFlight.get(id);
      if (!chunk) return;
      lane.inFlight.delete(id);
      lane.busy -= chunk.length;
      chunk.forEach((job, i) => job.resolve(ok[i] === true));
    });
    const fail = () => {
      for (const chunk of lane.inFlight.values()) for (const job of chunk) job.resolve(false);
      lane.inFlight.clear();
      lane.busy = 0;
      const at = this.lanes.indexOf(lane);
      if (at >= 0 && !this.closed) this.lanes[at] = this.spawn();
    };
    worker.once('error', fail);
    worker.once('exit', fail);
    return lane;
  }

  async close(): Promise<void> {
    this.closed = true;
    const lanes = this.lanes.splice(0);
    for (const job of this.queued) job.resolve(false);
    this.queued = [];
    await Promise.all(lanes.map((l) => l.worker.terminate()));
    for (const l of lanes) for (const chunk of l.inFlight.values()) for (const job of chunk) job.resolve(false);
  }
}
