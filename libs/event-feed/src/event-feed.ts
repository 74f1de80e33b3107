import { ConsumerMessages, DeliverPolicy, jetstream, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Consumer notifications that mean the stream (and so the consumer) no longer exists. */
const STREAM_GONE = new Set(['consumer_deleted', 'stream_not_found', 'consumer_not_found']);

interface Follower {
  subject: string;
  handle: (event: unknown) => void;
  since: Date;
  lastSeq: number;
  /** When the stream the feed reads was made: another value means the stream was lost and made again. */
  streamCreated?: string;
  messages?: ConsumerMessages;
  restarting?: boolean;
}

/**
 * Follows subjects of a JetStream stream with ordered consumers, and survives a NATS server
 * restart: ordered consumers live in server memory and are lost with it, so on every reconnect
 * each feed is re-created from the last stream sequence it processed — nothing missed, nothing
 * applied twice. Shared by auth-core and the SDK's local mode.
 *
 * It also survives the stream itself being lost (deleted, or JetStream's storage gone): the
 * consumer ends, the feed looks for the stream until it exists again, and reads the new stream
 * from its first event, since its sequence numbers start over and every event in it is new.
 */
export class EventFeed {
  private readonly js: JetStreamClient;
  private readonly followers: Follower[] = [];
  private jsm?: Promise<JetStreamManager>;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
  ) {
    this.js = jetstream(nc);
    void this.watch();
  }

  /** Applies every event on `subject` published from `since` on, then keeps following. */
  async follow<T>(subject: string, since: Date, handle: (event: T) => void): Promise<void> {
    const f: Follower = { subject, since, handle: handle as (e: unknown) => void, lastSeq: 0 };
    this.followers.push(f);
    await this.start(f);
  }

  private async start(f: Follower): Promise<void> {
    const { created } = await (await this.manager()).streams.info(this.stream);
    const replaced = f.streamCreated !== undefined && f.streamCreated !== created;
    if (replaced) f.lastSeq = 0;
    const position = replaced
      ? { deliver_policy: DeliverPolicy.All }
      : f.lastSeq
        ? { opt_start_seq: f.lastSeq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: f.since.toISOString() };
    // A single subject as a string: multi-subject filters need nats-server 2.10, Debian ships 2.9.
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: f.subject, ...position });
    const messages = await consumer.consume();
    f.streamCreated = created;
    f.messages = messages;
    void (async () => {
      for await (const m of messages) {
        f.lastSeq = m.seq;
        try {
          f.handle(m.json());
        } catch {
          // A malformed event changes nothing; the feed goes on.
        }
      }
      // The consumer ended without close() (its stream was deleted): follow the stream again.
      if (f.messages === messages) await this.restart(f);
    })();
    void (async () => {
      // nats.js says at once when the stream is gone, long before the consumer itself gives up.
      for await (const status of messages.status()) {
        if (!STREAM_GONE.has(status.type) || f.messages !== messages) continue;
        f.messages = undefined;
        await Promise.resolve(messages.close()).catch(() => undefined);
        await this.restart(f);
        return;
      }
    })();
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= this.js.jetstreamManager().catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    return this.jsm;
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'reconnect' || this.closed) continue;
      for (const f of this.followers) {
        const old = f.messages;
        f.messages = undefined;
        await Promise.resolve(old?.close()).catch(() => undefined);
        await this.restart(f);
      }
    }
  }

  /** Starts the follower again until it runs (or the feed is closed); one restart at a time. */
  private async restart(f: Follower): Promise<void> {
    if (f.restarting) return;
    f.restarting = true;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          return await this.start(f);
        } catch {
          // Short waits: while the stream is missing, the first event of its new incarnation (a
          // revocation) must still reach every replica within a second of being published.
          await new Promise((r) => setTimeout(r, Math.min(250, 25 * 2 ** attempt)));
        }
      }
    } finally {
      f.restarting = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const f of this.followers) {
      const old = f.messages;
      f.messages = undefined;
      await Promise.resolve(old?.close()).catch(() => undefined);
    }
  }
}
