import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { connect, Msg } from '@nats-io/transport-node';
import {
  cacheValidationMetadata,
  PAT_PREFIX,
  requestIdOf,
  ValidateTokenReply,
  ValidateTokenRequestDto,
} from '@portcullis/contracts';
import { RevocationState, TokenVerifier } from '@portcullis/jwt';
import { natsConnectionOptions } from '@portcullis/nats-options';
import { JwtJudge } from './jwt-judge';
import { StateFollower } from './state-mirror';
import { ValidateResponder } from './validate-responder';
import { StateMessage, ToMain, ToWorker, ValidateWorkerData, WorkerCounts } from './validate-worker.protocol';
import { outcomeOf } from './validation-outcome';

/**
 * A validate worker (VERIFY_WORKERS): a thread of auth-core that serves `auth.v1.token.validate`
 * on a NATS connection of its own, in the replica's queue group, with a copy of the replica's key
 * ring and revocation state. It judges JWTs exactly as the main thread does (same verifier, cache
 * and verdict); PATs, whose records live in PostgreSQL, go to the main thread. The main thread's
 * NATS I/O, Nest and event handling never stand between a validation and its CPU.
 */
// A thread has its own class-validator storage: cached here as on the main thread (see main.ts).
cacheValidationMetadata();
const data = workerData as ValidateWorkerData;
const port = parentPort!;
const post = (m: ToMain) => port.postMessage(m);

const verifier = new TokenVerifier();
const state = new RevocationState();
/** The main thread's RevocationCacheService.isCurrent(), mirrored. */
let current = true;
const jwt = new JwtJudge(verifier, state, data.verify, () => current);
// Read before every judgement: see StateFollower.
const mirror = new StateFollower<StateMessage>(data.statePort, data.generation, (msg) => {
  if ('keys' in msg) verifier.setKeys(msg.keys);
  else if ('state' in msg) state.load(msg.state);
  else if ('current' in msg) current = msg.current;
  else if ('revoked' in msg.change) state.applyRevoked(msg.change.revoked);
  else state.applyDisabled(msg.change.disabled);
});

const counts = { requests: new Map<string, number[]>(), validations: new Map<string, number>() };
function report(): void {
  if (counts.requests.size === 0 && counts.validations.size === 0) return;
  const out: WorkerCounts = { requests: [...counts.requests], validations: [...counts.validations] };
  counts.requests.clear();
  counts.validations.clear();
  post({ counts: out });
}

const patReplies = new Map<number, { resolve: (r: ValidateTokenReply) => void; reject: (e: Error) => void }>();
let nextPat = 0;
function askMain(req: ValidateTokenRequestDto, msg?: Msg): Promise<ValidateTokenReply> {
  const id = nextPat++;
  const requestId = requestIdOf(msg);
  return new Promise((resolve, reject) => {
    patReplies.set(id, { resolve, reject });
    post({ pat: { id, req: { ...req }, requestId } });
  });
}

const responder = new ValidateResponder(
  {
    isRemembered: (token) => jwt.isRemembered(token),
    judge: (req, msg) => {
      mirror.sync();
      if (req.token.startsWith(PAT_PREFIX)) return askMain(req, msg);
      const reply = jwt.judge(req.token, req);
      const outcome = outcomeOf(reply);
      counts.validations.set(outcome, (counts.validations.get(outcome) ?? 0) + 1);
      return reply;
    },
  },
  (outcome, seconds) => {
    const list = counts.requests.get(outcome);
    if (list) list.push(seconds);
    else counts.requests.set(outcome, [seconds]);
  },
  (message) => post({ error: message }),
);

async function main(): Promise<void> {
  mirror.sync();
  const nc = await connect({
    ...natsConnectionOptions(data.nats, `auth-core-validate-${data.index}`),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const reporter = setInterval(report, 250);
  const sweeper = setInterval(() => (mirror.sync(), state.sweep()), 60_000);
  port.on('message', (m: ToWorker) => {
    if ('patReply' in m) {
      const waiting = patReplies.get(m.patReply.id);
      patReplies.delete(m.patReply.id);
      if (m.patReply.reply) waiting?.resolve(m.patReply.reply);
      else waiting?.reject(new Error('PAT validation failed on the main thread'));
      return;
    }
    void (async () => {
      await responder.drain();
      clearInterval(reporter);
      clearInterval(sweeper);
      report();
      await nc.drain().catch(() => undefined);
      post({ drained: true });
    })();
  });
  responder.subscribe(nc, data.subject, data.queue);
  await nc.flush();
  post({ ready: true });
  // A connection that closes for good (not drained) leaves this worker useless: the main thread replaces it.
  const closed = await nc.closed();
  if (closed) {
    post({ error: `NATS connection closed: ${closed.message}` });
    process.exit(1);
  }
}

main().catch((err: Error) => {
  post({ error: `validate worker ${data.index} failed: ${err.stack ?? err.message}` });
  process.exit(1);
});
