import { Controller, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Msg, Subscription } from '@nats-io/transport-node';
import {
  AUTH_CORE_QUEUE,
  PAT_PREFIX,
  PortcullisError,
  REQUEST_ID_HEADER,
  SUBJECTS,
  ValidateTokenReply,
  ValidateTokenRequestDto,
  validatePayload,
} from '@portcullis/contracts';
import { atTurnEnd } from '@portcullis/nats-options';
import { runWithRequestContext } from '@portcullis/observability';
import { encodedOncePerClaims } from '@portcullis/jwt';
import { childrenBy, natsRequestDuration, natsRequests } from '../metrics/metrics';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { PlainJsonDeserializer, PlainJsonSerializer } from '../nats/plain-json.codec';
import { RevocationCacheService } from './revocation-cache.service';
import { TokenValidationService } from './token-validation.service';

const FIELDS = new Set(['token', 'roles', 'permissions', 'tenant', 'clientIp']);
const PLAIN = /^[\x21-\x7e]+$/;
const plainString = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max && PLAIN.test(v);
const plainStrings = (v: unknown, max: number): boolean =>
  Array.isArray(v) && v.length <= 32 && v.every((s) => plainString(s, max));

/**
 * The request as nearly every caller sends it — `{token}`, maybe with roles/permissions/tenant/
 * clientIp made of plain ASCII — recognised without class-transformer/class-validator, which cost
 * more than the rest of a cached validation. It accepts only what ValidateTokenRequestDto
 * accepts; anything else (null, odd characters, oversize, unknown fields) returns null and takes
 * the full path, which gives the exact BAD_REQUEST details.
 */
export function plainValidRequest(payload: unknown): ValidateTokenRequestDto | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  for (const k of Object.keys(p)) if (!FIELDS.has(k)) return null;
  if (typeof p.token !== 'string' || p.token.length === 0 || p.token.length > 8192) return null;
  if (p.roles !== undefined && !plainStrings(p.roles, 64)) return null;
  if (p.permissions !== undefined && !plainStrings(p.permissions, 64)) return null;
  if (p.tenant !== undefined && !plainString(p.tenant, 128)) return null;
  if (p.clientIp !== undefined && !plainString(p.clientIp, 64)) return null;
  return p as unknown as ValidateTokenRequestDto;
}

/** Requests answered between two writes of replies (see enqueue). */
const BATCH = 8;

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as Promise<T>)?.then === 'function';

/**
 * `auth.v1.token.validate`: never throws; a malformed request is answered, not raised.
 *
 * The hottest subject is served by its own NATS subscription (same subject, same `auth-core`
 * queue group, same plain-JSON wire format and metrics) instead of Nest's microservice dispatch,
 * which cost more per request than validating a remembered token. A JWT is judged synchronously,
 * in the subscription callback, unless its signature goes to a verify worker (VERIFY_WORKERS); a
 * PAT (its record may need a database read) goes async.
 * Like every other subscription it starts once the replica's state is loaded and drains at
 * shutdown, answering whatever NATS routed here before it stops.
 */
@Controller()
export class ValidateTokenHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ValidateToken');
  private readonly deserializer = new PlainJsonDeserializer();
  private readonly serializer = new PlainJsonSerializer();
  private sub?: Subscription;
  private readonly queue: Array<{ msg: Msg; started: bigint; data: { token?: unknown } }> = [];
  private scheduled = false;
  /** Requests taken from NATS and not answered yet (queued, or a PAT awaiting its record). */
  private pending = 0;
  private idle?: () => void;
  private closed = false;

  constructor(
    private readonly validation: TokenValidationService,
    private readonly revocations: RevocationCacheService,
    private readonly nats: NatsConnectionService,
  ) {}

  /** Answers one request (also the unit under test): a reply, or a promise of one for a PAT. */
  handle(payload: unknown): ValidateTokenReply | Promise<ValidateTokenReply> {
    let req: ValidateTokenRequestDto;
    try {
      req = plainValidRequest(payload) ?? validatePayload(ValidateTokenRequestDto, payload);
    } catch (err) {
      const e = err as PortcullisError;
      return { valid: false, error: { code: 'BAD_REQUEST', message: e.message, details: e.details } };
    }
    return this.validation.validateNow(req.token, req, req.clientIp);
  }

  onApplicationBootstrap(): void {
    // StartupService loads keys and then revocations in its own bootstrap hook; no request may be
    // judged before both are in memory, so the subscription waits for them.
    void this.subscribeWhenLoaded();
  }

  private async subscribeWhenLoaded(): Promise<void> {
    while (!this.revocations.isLoaded()) {
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    const nc = await this.nats.connection();
    if (this.closed) return;
    this.sub = nc.subscribe(SUBJECTS.TOKEN_VALIDATE, {
      queue: AUTH_CORE_QUEUE,
      callback: (err, msg) => (err ? this.logger.error(err.message) : this.enqueue(msg)),
    });
  }

  /**
   * NATS hands over every request of a socket read in one synchronous loop, and replies are only
   * written once that loop ends: answering a burst of 64 distinct tokens in one go would keep
   * every caller waiting for the whole burst, and this replica idle while they send the next.
   * Requests are therefore answered a few at a time, each few replies written before the next few.
   */
  private enqueue(msg: Msg): void {
    const started = process.hrtime.bigint();
    const data = this.deserializer.deserialize(msg).data as { token?: unknown };
    this.pending++;
    // A token verified a moment ago costs a few µs: answered right here, so its reply goes out in
    // the same write as the rest of this read's. Only signature checks wait their turn below.
    if (typeof data?.token === 'string' && this.validation.isRemembered(data.token)) {
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
    for (const { msg, started, data } of this.queue.splice(0, BATCH)) {
      this.onMessage(msg, started, data);
      this.settle();
    }
    if (this.queue.length) setImmediate(() => this.work());
    else this.scheduled = false;
  }

  private settle(): void {
    if (--this.pending === 0) this.idle?.();
  }

  private onMessage(msg: Msg, started: bigint, data: { token?: unknown }, remembered = false): void {
    let reply: ValidateTokenReply | Promise<ValidateTokenReply>;
    try {
      // A PAT's lookup may log (database trouble): it runs in the request's log context. A JWT
      // logs nothing, and AsyncLocalStorage is not free on the hottest path.
      reply =
        typeof data?.token === 'string' && data.token.startsWith(PAT_PREFIX)
          ? runWithRequestContext(
              { requestId: msg.headers?.get(REQUEST_ID_HEADER) || undefined, subject: SUBJECTS.TOKEN_VALIDATE },
              () => this.handle(data),
            )
          : this.handle(data);
    } catch (err) {
      return this.fail(msg, started, err);
    }
    if (!isPromise(reply)) return this.respond(msg, started, reply, remembered);
    this.pending++;
    // A signature checked on a worker (VERIFY_WORKERS) or a PAT's record comes back in a callback
    // of its own: the replies settled during one event-loop turn go out together, in one socket
    // write, rather than one write per worker message.
    const answer = (send: () => void) =>
      atTurnEnd(() => {
        try {
          send();
        } catch (err) {
          this.logger.error(`reply not sent: ${(err as Error).message}`);
        } finally {
          this.settle();
        }
      });
    reply.then(
      (r) => answer(() => this.respond(msg, started, r)),
      (err: unknown) => answer(() => this.fail(msg, started, err)),
    );
  }

  private respond(msg: Msg, started: bigint, reply: ValidateTokenReply, remembered = false): void {
    if (msg.reply)
      msg.respond(
        remembered && reply.valid
          ? this.encodedValid(reply.claims)
          : this.serializer.serialize({ response: reply }).data,
      );
    this.count(started, 'ok');
  }

  /** A remembered token's positive reply, the same bytes each time (see encodedOncePerClaims). */
  private readonly encodedValid = encodedOncePerClaims((claims) =>
    Buffer.from(this.serializer.serialize({ response: { valid: true, claims } }).data),
  );

  /** Not expected (validation answers, it does not throw), but then the caller gets INTERNAL, never silence. */
  private fail(msg: Msg, started: bigint, err: unknown): void {
    this.logger.error(`validation failed: ${(err as Error)?.stack ?? String(err)}`);
    const out = this.serializer.serialize({ err: { code: 'INTERNAL', message: 'Internal error', details: null } });
    if (msg.reply) msg.respond(out.data, { headers: out.headers });
    this.count(started, 'INTERNAL');
  }

  private readonly metricsFor = childrenBy((outcome) => {
    const labels = { subject: SUBJECTS.TOKEN_VALIDATE, outcome };
    return { n: natsRequests.labels(labels), seconds: natsRequestDuration.labels(labels) };
  });

  private count(started: bigint, outcome: string): void {
    const m = this.metricsFor(outcome);
    m.n.inc();
    m.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Drains like the other subscriptions: NATS stops routing here, what it already routed is answered. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    const sub = this.sub;
    if (!sub) return;
    this.logger.log(`draining ${SUBJECTS.TOKEN_VALIDATE}: ${this.pending} request(s) in flight`);
    await Promise.race([sub.drain().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    if (this.pending > 0)
      await Promise.race([new Promise<void>((r) => (this.idle = r)), new Promise((r) => setTimeout(r, 5000))]);
  }
}
