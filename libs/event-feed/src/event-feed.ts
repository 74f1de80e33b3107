import { ConsumerMessages, DeliverPolicy, jetstream, JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

interface Follower {
  subject: string;
  handle: (event: unknown) => void;
  since: Date;
  lastSeq: number;
  messages?: ConsumerMessages;
}

/**
 * Follows subjects of a JetStream stream with ordered consumers, and survives a NATS server
 * restart: ordered consumers live in server memory and are lost with it, so on every reconnect
 * each feed is re-created from the last stream sequence it processed — nothing missed, nothing
 * applied twice. Shared by auth-core and the SDK's local mode.
 */
export class EventFeed {
  private readonly js: JetStreamClient;
  private readonly followers: Follower[] = [];
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
    const position = f.lastSeq
      ? { opt_start_seq: f.lastSeq + 1 }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: f.since.toISOString() };
    // A single subject as a string: multi-subject filters need nats-server 2.10, Debian ships 2.9.
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: f.subject, ...position });
    const messages = await consumer.consume();
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
    })();
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'reconnect' || this.closed) continue;
      for (const f of this.followers) {
        await Promise.resolve(f.messages?.close()).catch(() => undefined);
        await this.restart(f);
      }
    }
  }

  private async restart(f: Follower): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        return await this.start(f);
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const f of this.followers) await Promise.resolve(f.messages?.close()).catch(() => undefined);
  }
}
