import { Msg, NatsConnection } from '@nats-io/transport-node';
import { checkValidateRequest, ValidateTokenReply, ValidateTokenRequestDto } from '@portcullis/contracts';
import { encodedOncePerClaims } from '@portcullis/jwt';
import { atTurnEnd } from '@portcullis/nats-options';
import { PlainJsonDeserializer, PlainJsonSerializer } from '../nats/plain-json.codec';
import { ResponderSubscription } from '../nats/drain';

/** What judges a well-formed request: the main thread's TokenValidationService, or a validate worker. */
export interface ValidateJudge {
  /** Whether this JWT's signature was verified a moment ago (judging it again costs a few µs). */
  isRemembered(token: string): boolean;
  /** The reply: at once for a JWT judged here, later for a PAT's record or a judgement made elsewhere. */
  judge(req: ValidateTokenRequestDto, msg: Msg): ValidateTokenReply | Promise<ValidateTokenReply>;
}

/** Where answered requests are counted: `ok`, or `INTERNAL` when judging failed; seconds from arrival to reply. */
export type ValidateMeter = (outcome: string, seconds: number) => void;

/**
 * Requests answered between two writes of replies (see enqueue). 64 rather than 8: with the
 * validations on two worker threads, batches of 8 meant about three times the socket writes, and
 * each write that wakes nats-server costs more than the wait it saves a caller (distinct tokens in
 * turns with the ES256 ceiling: 68 → 77 % on 2 workers; on the main thread 59.5 → 60.4 %).
 */
const BATCH = 64;

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as Promise<T>)?.then === 'function';

/**
 * `auth.v1.token.validate` on one NATS connection, with no framework in the way: it runs on
 * auth-core's main thread, or on each validate worker thread (VERIFY_WORKERS) with a connection of
 * its own. Never throws: a malformed request is answered, not raised. A JWT the judge knows is
 * answered in the subscription callback; the rest are judged a few at a time (see enqueue); a reply
 * that settles in a callback of its own goes out at the end of the event-loop turn, with the others
 * of that turn, in one socket write.
 */
export class ValidateResponder {
  private readonly deserializer = new PlainJsonDeserializer();
  private readonly serializer = new PlainJsonSerializer();
  private readonly queue: Array<{ msg: Msg; started: number; data: { token?: unknown } }> = [];
  private scheduled = false;
  /** Requests taken from NATS and not answered yet (queued, or awaiting a later judgement). */
  private readonly requests = new ResponderSubscription();

  constructor(
    private readonly judge: ValidateJudge,
    private readonly meter: ValidateMeter,
    private readonly logError: (message: string) => void,
  ) {}

  subscribe(nc: NatsConnection, subject: string, queue: string): void {
    this.requests.attach(
      nc.subscribe(subject, {
        queue,
        callback: (err, msg) => (err ? this.logError(err.message) : this.enqueue(msg)),
      }),
    );
  }

  /** Answers one request (also the unit under test): a reply, or a promise of one. */
  handle(payload: unknown, msg?: Msg): ValidateTokenReply | Promise<ValidateTokenReply> {
    const checked = checkValidateRequest(payload);
    if ('error' in checked) return { valid: false, error: checked.error };
    return this.judge.judge(checked.req, msg as Msg);
  }

  /** NATS stops routing here; what it already routed is answered (at most `timeoutMs` each wait). */
  drain(timeoutMs = 5000): Promise<void> {
    return this.requests.drain(timeoutMs);
  }

  get inFlight(): number {
    return this.requests.inFlight;
  }

  /**
   * NATS hands over every request of a socket read in one synchronous loop, and replies are only
   * written once that loop ends: judging a long burst in one go would keep every caller waiting
   * for the whole burst. Requests needing a signature check are therefore answered in batches
   * (BATCH), each batch's replies written before the next is judged.
   */
  private enqueue(msg: Msg): void {
    const started = performance.now();
    const data = this.deserializer.deserialize(msg).data as { token?: unknown };
    this.requests.taken();
    // A token verified a moment ago costs a few µs: answered right here, so its reply goes out in
    // the same write as the rest of this read's. Only signature checks wait their turn below.
    if (typeof data?.token === 'string' && this.judge.isRemembered(data.token)) {
      this.onMessage(msg, started, data, true);
      return this.settle();
    }
    this.queue.push({ msg, started, data });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.work());
    }
  }

  private work(): void {
    try {
      for (const { msg, started, data } of this.queue.splice(0, BATCH)) {
        this.onMessage(msg, started, data);
        this.settle();
      }
    } finally {
      // Whatever happened to one request, the queue keeps being served.
      if (this.queue.length) setImmediate(() => this.work());
      else this.scheduled = false;
    }
  }

  private settle(): void {
    this.requests.answered();
  }

  private onMessage(msg: Msg, started: number, data: unknown, remembered = false): void {
    let reply: ValidateTokenReply | Promise<ValidateTokenReply>;
    try {
      reply = this.handle(data, msg);
    } catch (err) {
      return this.fail(msg, started, err);
    }
    if (!isPromise(reply)) return this.respond(msg, started, reply, remembered);
    this.requests.taken();
    const answer = (send: () => void) =>
      atTurnEnd(() => {
        try {
          send();
        } catch (err) {
          this.logError(`reply not sent: ${(err as Error).message}`);
        } finally {
          this.settle();
        }
      });
    reply.then(
      (r) => answer(() => this.respond(msg, started, r)),
      (err: unknown) => answer(() => this.fail(msg, started, err)),
    );
  }

  private respond(msg: Msg, started: number, reply: ValidateTokenReply, remembered = false): void {
    if (msg.reply)
      this.send(
        msg,
        remembered && reply.valid
          ? this.encodedValid(reply.claims)
          : this.serializer.serialize({ response: reply }).data,
      );
    this.meter('ok', (performance.now() - started) / 1e3);
  }

  /** A remembered token's positive reply, the same bytes each time (see encodedOncePerClaims). */
  private readonly encodedValid = encodedOncePerClaims((claims) =>
    Buffer.from(this.serializer.serialize({ response: { valid: true, claims } }).data),
  );

  /** Not expected (validation answers, it does not throw), but then the caller gets INTERNAL, never silence. */
  private fail(msg: Msg, started: number, err: unknown): void {
    this.logError(`validation failed: ${(err as Error)?.stack ?? String(err)}`);
    const out = this.serializer.serialize({ err: { code: 'INTERNAL', message: 'Internal error', details: null } });
    if (msg.reply) this.send(msg, out.data, { headers: out.headers });
    this.meter('INTERNAL', (performance.now() - started) / 1e3);
  }

  /**
   * A reply NATS refuses to send (larger than max_payload, connection closing) must not throw into
   * the subscription's callback: that stops the client reading, and with it every later request.
   */
  private send(msg: Msg, data: Uint8Array | string, opts?: Parameters<Msg['respond']>[1]): void {
    try {
      msg.respond(data, opts);
    } catch (err) {
      this.logError(`reply not sent: ${(err as Error).message}`);
    }
  }
}
