import { Logger } from '@nestjs/common';
import { Msg, NatsConnection } from '@nats-io/transport-node';
import { requestIdOf } from '@portcullis/contracts';
import { atTurnEnd } from '@portcullis/nats-options';
import { runWithRequestContext } from '@portcullis/observability';
import { natsRequestMeter } from '../metrics/metrics';
import { PlainJsonDeserializer, PlainJsonSerializer } from './plain-json.codec';
import { wireErrorOf } from './rpc-error.filter';
import { ResponderSubscription } from './drain';

/**
 * One request/reply subject served on a NATS subscription of its own instead of through Nest's
 * microservice dispatch, with what DrainingNatsServer and RpcErrorFilter give every other subject:
 * the `auth-core` queue group, the plain-JSON wire format, errors as {code, message} with the error
 * header (unexpected ones logged and answered INTERNAL), the caller's request id in every log line,
 * the per-subject count and latency, replies written at the end of the event-loop turn, and a
 * drain at shutdown that answers whatever NATS already routed here.
 *
 * Why: for a request whose own work is a few tens of µs (client_credentials with a remembered
 * client), Nest's dispatch (RxJS, its context and packet handling) was a fixed cost of every
 * request, and at 32 connections the requests travel together, so every µs lengthens the cycle.
 * The handler still validates its payload with class-validator (validatePayload).
 */
export class DirectResponder {
  private readonly deserializer = new PlainJsonDeserializer();
  private readonly serializer = new PlainJsonSerializer();
  private readonly meter: (outcome: string, seconds: number) => void;
  private readonly requests = new ResponderSubscription();

  constructor(
    private readonly subject: string,
    private readonly handler: (payload: unknown) => Promise<unknown>,
    private readonly logger: Pick<Logger, 'error'>,
  ) {
    this.meter = natsRequestMeter(subject);
  }

  subscribe(nc: NatsConnection, queue: string): void {
    this.requests.attach(
      nc.subscribe(this.subject, {
        queue,
        callback: (err, msg) => (err ? this.logger.error(err.message) : this.onMessage(msg)),
      }),
    );
  }

  /** Requests taken from NATS and not answered yet. */
  get inFlight(): number {
    return this.requests.inFlight;
  }

  /** NATS stops routing here; what it already routed is answered (at most `timeoutMs` each wait). */
  drain(timeoutMs = 10000): Promise<void> {
    return this.requests.drain(timeoutMs);
  }

  private onMessage(msg: Msg): void {
    const started = process.hrtime.bigint();
    this.requests.taken();
    const data = this.deserializer.deserialize(msg).data;
    const requestId = requestIdOf(msg);
    let result: Promise<unknown>;
    try {
      result = runWithRequestContext({ requestId, subject: this.subject }, () => this.handler(data));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => atTurnEnd(() => this.answer(msg, started, { response }, 'ok')),
      (err: unknown) =>
        atTurnEnd(() => {
          const wire = runWithRequestContext({ requestId, subject: this.subject }, () => wireErrorOf(err, this.logger));
          this.answer(msg, started, { err: wire }, wire.code);
        }),
    );
  }

  private answer(msg: Msg, started: bigint, packet: { response?: unknown; err?: unknown }, outcome: string): void {
    try {
      if (msg.reply) {
        const out = this.serializer.serialize(packet);
        msg.respond(out.data, out.headers ? { headers: out.headers } : undefined);
      }
    } catch (err) {
      this.logger.error(`reply not sent: ${(err as Error).message}`);
    }
    this.meter(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    this.requests.answered();
  }
}
