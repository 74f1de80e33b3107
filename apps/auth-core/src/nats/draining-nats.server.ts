import { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { NatsContext, NatsOptions, ServerNats } from '@nestjs/microservices';
import { requestIdOf } from '@portcullis/contracts';
import { atTurnEnd } from '@portcullis/nats-options';
import { runWithRequestContext } from '@portcullis/observability';
import { natsRequestDuration, natsRequests } from '../metrics/metrics';
import { bounded } from './drain';

type Options = Required<NatsOptions>['options'] & { gracePeriod?: number; queue?: string };
type Packet = { err?: unknown; isDisposed?: boolean };

/**
 * Nest's NATS server with what production needs from it:
 *
 * - Shutdown drains: Nest's own graceful close *unsubscribes* and then closes after a fixed grace
 *   period, so a request already routed to this replica but still on the wire is dropped (its caller
 *   times out) and a slow one is cut off. Here each subscription is drained (the server stops routing
 *   to us, queue peers take over, whatever was routed here is still delivered), shutdown waits for
 *   every accepted request to be answered (bounded by `gracePeriod`), then the connection drains,
 *   which flushes the last replies.
 * - Per-subject request count and latency, measured from arrival to the published reply, so
 *   malformed payloads and serialisation are counted too.
 * - The caller's X-Request-Id (sent by the gateway) and the subject go into every log line written
 *   while the request is handled.
 */
export class DrainingNatsServer extends ServerNats {
  private readonly subs: Subscription[] = [];
  private readonly inFlight = new Map<Msg, { subject: string; started: bigint }>();
  private onIdle?: () => void;

  constructor(private readonly settings: Options) {
    super(settings);
  }

  override bindEvents(client: NatsConnection): void {
    for (const [channel, ref] of this.messageHandlers) {
      const queue = (ref.extras?.queue as string | undefined) ?? this.settings.queue;
      const callback = this.getMessageHandler(channel).bind(this) as (err: Error | null, msg: Msg) => void;
      this.subs.push(client.subscribe(channel, { queue, callback }));
    }
  }

  /**
   * Nest JSON.parses every incoming subject in case it is an object pattern, and catches the
   * exception for a plain subject — a measurable share of the CPU of every request. Our patterns
   * are plain subjects (SUBJECTS in libs/contracts), for which the route is the subject itself.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : pattern;
  }

  override async handleMessage(channel: string, msg: Msg): Promise<unknown> {
    if (msg.reply) this.inFlight.set(msg, { subject: channel, started: process.hrtime.bigint() });
    const requestId = requestIdOf(msg);
    try {
      return await runWithRequestContext({ requestId, subject: channel }, () => super.handleMessage(channel, msg));
    } catch (err) {
      this.finished(msg, 'INTERNAL');
      throw err;
    }
  }

  /**
   * Replies go out at the end of the event-loop turn with every other reply of that turn, in one
   * socket write (see atTurnEnd); a batch of tokens committed together is answered together.
   */
  override getPublisher(msg: Msg, id: string, ctx: NatsContext): (response: Packet) => unknown {
    const publish = super.getPublisher(msg, id, ctx);
    return (response: Packet) =>
      atTurnEnd(() => {
        try {
          publish(response);
        } catch (err) {
          this.logger.error(`reply not sent: ${(err as Error).message}`);
        }
        this.finished(msg, response.err === undefined ? 'ok' : errorCode(response.err));
      });
  }

  /** Requests this replica has accepted and not answered yet. */
  get pending(): number {
    return this.inFlight.size;
  }

  private finished(msg: Msg, outcome: string): void {
    const entry = this.inFlight.get(msg);
    if (!entry) return; // a second packet for the same request (Nest's disposal marker)
    this.inFlight.delete(msg);
    const labels = { subject: entry.subject, outcome };
    natsRequests.inc(labels);
    const seconds = Number(process.hrtime.bigint() - entry.started) / 1e9;
    natsRequestDuration.observe(labels, seconds);
    // Runs in the request's context, so the line carries its requestId and subject (LOG_LEVEL=debug).
    this.logger.debug?.(`answered ${outcome} in ${(seconds * 1000).toFixed(1)} ms`);
    if (this.inFlight.size === 0) this.onIdle?.();
  }

  private idle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  override async close(): Promise<void> {
    let nc: NatsConnection | undefined;
    try {
      nc = this.unwrap<NatsConnection>();
    } catch {
      return; // never connected
    }
    if (!nc.isClosed()) {
      const grace = this.settings.gracePeriod ?? 10000;
      this.logger.log(`draining NATS subscriptions: ${this.inFlight.size} request(s) in flight`);
      // Draining needs the server's answer; while disconnected it would wait for a reconnect, so it is bounded.
      await bounded(Promise.all(this.subs.map((s) => s.drain().catch(() => undefined))), grace);
      if (!(await this.idle(grace))) {
        this.logger.warn(`${this.inFlight.size} NATS request(s) still unanswered after ${grace} ms; closing anyway`);
      }
      await bounded(
        nc.drain().catch(() => undefined),
        grace,
      );
    }
    await super.close();
  }
}

/** The outcome label of an error reply: its wire code, from a bounded set (libs/contracts). */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? code : 'INTERNAL';
}
