import { createInbox, Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';

/** How often timed-out requests are looked for; a request fails at most this much after its timeout. */
const SWEEP_MS = 50;

export type MuxFailure = 'no-responders' | 'timeout' | 'closed';

/** Why a request got no reply; `reason` says which, for the caller's own error. */
export class MuxError extends Error {
  constructor(readonly reason: MuxFailure) {
    super(reason);
  }
}

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (err: unknown) => void;
  deadline: number;
}

/**
 * Request/reply over one wildcard inbox subscription, what nats.js's `request()` does, without its
 * cost on every answered request: nats.js 3.4 ends each one with `RequestOne.cancel()`, which builds a
 * `RequestError("cancelled")` (an Error with its stack trace) for a promise already settled, and arms
 * and clears a timer per request. That was about 5 % of the gateway's CPU on /oauth/token. Here a
 * request is a map entry; timeouts are found by one sweep, oldest first (all requests share one
 * timeout, so the map's insertion order is deadline order).
 *
 * Failures are reported as `MuxError`s: no responders (the server's 503 status reply, which it sends
 * because nats.js connects with `no_responders`), timeout, or the connection closed.
 */
export class RequestMux {
  private readonly inbox = `${createInbox()}.`;
  private readonly pending = new Map<string, Pending>();
  private readonly sweeper: NodeJS.Timeout;
  private seq = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    // An error here (the inbox subscription refused) carries no message: the requests then time out.
    nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (!err) this.settle(msg);
      },
    });
    this.sweeper = setInterval(() => this.expire(performance.now()), SWEEP_MS).unref();
    void nc.closed().then(() => this.close());
  }

  request(subject: string, data: string, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.seq++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      if (this.nc.isClosed()) return reject(new MuxError('closed'));
      this.pending.set(token, { resolve, reject, deadline: performance.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: this.inbox + token, headers });
      } catch (err) {
        this.pending.delete(token);
        reject(err);
      }
    });
  }

  /** Requests sent and not yet answered, failed or timed out. */
  get size(): number {
    return this.pending.size;
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const p = this.pending.get(token);
    if (!p) return; // answered after its timeout
    this.pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new MuxError('no-responders'));
    else p.resolve(msg);
  }

  /** Fails every request whose deadline has passed. */
  private expire(now: number): void {
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new MuxError('timeout'));
    }
  }

  private close(): void {
    clearInterval(this.sweeper);
    for (const p of this.pending.values()) p.reject(new MuxError('closed'));
    this.pending.clear();
  }
}
