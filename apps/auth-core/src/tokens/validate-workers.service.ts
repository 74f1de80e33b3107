import { join } from 'node:path';
import { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_CORE_QUEUE, SUBJECTS } from '@portcullis/contracts';
import { natsSettings } from '@portcullis/nats-options';
import { runWithRequestContext } from '@portcullis/observability';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { KeyRingService } from '../keys/key-ring.service';
import { countValidateRequest, countValidations } from '../metrics/metrics';
import { RevocationCacheService } from './revocation-cache.service';
import { StateBroadcaster } from './state-mirror';
import { TokenValidationService } from './token-validation.service';
import { StateMessage, ToMain, ToWorker, ValidateWorkerData } from './validate-worker.protocol';

interface Lane {
  index: number;
  worker: Worker;
  state: MessagePort;
  ready: Promise<void>;
  drained?: () => void;
}

/** How long a worker may take to connect and subscribe before the replica goes on without it. */
const READY_TIMEOUT_MS = 10_000;

/**
 * VERIFY_WORKERS > 0: `auth.v1.token.validate` is served by that many worker threads
 * (validate.worker.ts), each a full validator with its own NATS connection in the replica's queue
 * group, so on a replica with spare CPUs validations run in parallel and the main thread's work
 * (other subjects, events, PostgreSQL) never delays them. This service keeps their copies of the
 * key ring and revocation state exactly in step with the main thread's, judges the PATs they hand
 * over, carries their counts into this replica's metrics, replaces a worker that dies, and drains
 * them at shutdown.
 */
@Injectable()
export class ValidateWorkers {
  private readonly logger = new Logger('ValidateWorkers');
  private readonly lanes: Lane[] = [];
  private readonly mirror = new StateBroadcaster<StateMessage>();
  private closing = false;

  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly validation: TokenValidationService,
  ) {}

  /** Called once, when the replica's state is loaded; resolves when every worker serves (or READY_TIMEOUT_MS). */
  async start(count: number): Promise<void> {
    this.keys.verifier.onKeysChanged((keys) => this.mirror.broadcast({ keys }));
    this.revocations.onChange((change) => this.mirror.broadcast({ change }));
    this.revocations.onCurrentChange((current) => this.mirror.broadcast({ current }));
    for (let i = 0; i < count; i++) this.lanes.push(this.spawn(i));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), READY_TIMEOUT_MS)));
    const outcome = await Promise.race([Promise.all(this.lanes.map((l) => l.ready)), late]);
    clearTimeout(timer);
    if (this.closing) return;
    if (outcome === 'late')
      this.logger.error(`validate workers not all ready after ${READY_TIMEOUT_MS} ms; the others serve meanwhile`);
    else this.logger.log(`${SUBJECTS.TOKEN_VALIDATE} is served by ${count} worker thread(s)`);
  }

  private spawn(index: number): Lane {
    const { port1, port2 } = new MessageChannel();
    const workerData: ValidateWorkerData = {
      index,
      nats: natsSettings(this.config),
      subject: SUBJECTS.TOKEN_VALIDATE,
      queue: AUTH_CORE_QUEUE,
      verify: { issuer: this.config.ISSUER, audience: this.config.AUDIENCE, clockSkew: this.config.CLOCK_SKEW },
      generation: this.mirror.generation.buffer as SharedArrayBuffer,
      statePort: port2,
    };
    const worker = new Worker(join(__dirname, 'validate.worker.js'), { workerData, transferList: [port2] });
    worker.unref();
    // The whole state first, on the port the worker reads before judging anything; changes follow.
    this.mirror.add(port1, [
      { keys: this.keys.verifier.listKeys() },
      { state: this.revocations.copy() },
      { current: this.revocations.isCurrent() },
    ]);
    let ready!: () => void;
    const lane: Lane = { index, worker, state: port1, ready: new Promise<void>((resolve) => (ready = resolve)) };
    worker.on('message', (m: ToMain) => this.onMessage(lane, m, ready));
    worker.on('error', (err) => this.logger.error(`validate worker ${index}: ${err.stack ?? err.message}`));
    worker.on('exit', (code) => {
      lane.drained?.();
      this.mirror.remove(port1);
      port1.close();
      if (this.closing) return;
      this.logger.error(`validate worker ${index} exited (code ${code}); starting another in 1 s`);
      // The other workers (and replicas) keep serving meanwhile; the pause keeps a worker that
      // cannot start (NATS refusing it, say) from being restarted in a tight loop.
      setTimeout(() => {
        const at = this.lanes.indexOf(lane);
        if (at >= 0 && !this.closing) this.lanes[at] = this.spawn(index);
      }, 1000).unref();
    });
    return lane;
  }

  private onMessage(lane: Lane, m: ToMain, ready: () => void): void {
    if ('ready' in m) return ready();
    if ('error' in m) return this.logger.error(`validate worker ${lane.index}: ${m.error}`);
    if ('drained' in m) return lane.drained?.();
    if ('counts' in m) {
      for (const [outcome, seconds] of m.counts.requests) for (const s of seconds) countValidateRequest(outcome, s);
      for (const [outcome, n] of m.counts.validations) countValidations(outcome, n);
      return;
    }
    const { id, req, requestId } = m.pat;
    const send = (reply: ToWorker) => lane.worker.postMessage(reply);
    runWithRequestContext({ requestId, subject: SUBJECTS.TOKEN_VALIDATE }, () =>
      this.validation.validate(req.token, req, req.clientIp),
    ).then(
      (reply) => send({ patReply: { id, reply } }),
      (err: Error) => {
        this.logger.error(`PAT validation failed: ${err.stack ?? err.message}`);
        send({ patReply: { id, failed: true } });
      },
    );
  }

  /** Each worker drains its subscription (answering what NATS routed to it), reports, and stops. */
  async drain(): Promise<void> {
    this.closing = true;
    const lanes = this.lanes.splice(0);
    this.logger.log(`draining ${lanes.length} validate worker(s)`);
    await Promise.all(
      lanes.map(async (lane) => {
        await Promise.race([
          new Promise<void>((resolve) => {
            lane.drained = resolve;
            lane.worker.postMessage({ drain: true } satisfies ToWorker);
          }),
          new Promise((resolve) => setTimeout(resolve, 10_000)),
        ]);
        await lane.worker.terminate();
      }),
    );
  }
}
