import { ConsumerMessages, DeliverPolicy, jetstream, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { streamAdvisories } from '@portcullis/contracts';

/** Consumer notifications that mean the stream (and so the consumer) no longer exists. */
const STREAM_GONE = new Set(['consumer_deleted', 'stream_not_found', 'consumer_not_found']);

/**
 * How long a JetStream API request of the feed may take (nats.js waits 5 s by default). While the
 * stream is being deleted or made again an answer can be slow in coming; the restart loop had
 * better ask again than wait past the second in which a revocation must reach every replica.
 */
const API_TIMEOUT_MS = 1000;

/** How often the feed looks its stream up itself, besides hearing of changes (see check()). */
const STREAM_CHECK_MS = 2000;

/** What JetStream's API answers for a stream that does not exist. */
const isStreamNotFound = (err: unknown) => err instanceof Error && err.message === 'stream not found';

/** Advisories (the subject's fifth token) after which a feed must look for its stream anew. */
const STREAM_CHANGES = new Set(['CREATED', 'DELETED']);

/**
 * Whether the stream incarnation `created` (JetStream's time, nanoseconds in the string) is the same
 * as or newer than `than`. Compared as instants, to the millisecond: the strings' fractions differ in
 * length, so they do not sort as text.
 */
export const streamMadeNoEarlier = (created: string | undefined, than: string): boolean =>
  created !== undefined && Date.parse(created) >= Date.parse(than);

export interface EventFeedHooks {
  /** Hears of what degrades the feed without stopping it (say, a permission it lacks). */
  warn?: (message: string) => void;
  /** The stream is missing: whoever may make it can do so here (the feed waits for it either way). */
  streamMissing?: () => void;
  /**
   * The feed reads a new incarnation of the stream (made at `created`, JetStream's time): events
   * published to the lost one that it had not read yet are gone with it, so whoever keeps state
   * from the feed reloads it from its source.
   */
  newStream?: (created: string) => void;
  /**
   * The feed fell behind (its connection dropped: events may be published that it cannot read) or
   * caught up again (every follower has read what its stream held when it restarted after that).
   */
  currentChanged?: (current: boolean) => void;
}

interface Follower {
  subject: string;
  handle: (event: unknown) => void;
  since: Date;
  lastSeq: number;
  /** When the stream the feed reads was made: another value means the stream was lost and made again. */
  streamCreated?: string;
  messages?: ConsumerMessages;
  restarting?: boolean;
  /** Set when the stream changed while a restart was under way: that restart may follow the old one. */
  stale?: boolean;
  /** Set when the connection dropped, until the follower has read what the stream took meanwhile. */
  behind?: boolean;
  /** The consumer made since the drop: only its reads count towards catching up (not ones left from before). */
  resumed?: ConsumerMessages;
}

/**
 * Follows subjects of a JetStream stream with ordered consumers, and survives a NATS server
 * restart: ordered consumers live in server memory and are lost with it, so on every reconnect
 * each feed is re-created from the last stream sequence it processed — nothing missed, nothing
 * applied twice. Shared by auth-core and the SDK's local mode.
 *
 * It also survives the stream itself being lost (deleted, or JetStream's storage gone): the feed
 * looks for the stream until it exists again, and reads the new stream from its first event,
 * since its sequence numbers start over and every event in it is new. It hears of the loss from
 * JetStream's stream advisories and the consumers' notices, and looks the stream up itself every
 * 2 s for when neither comes (see check()).
 */
export class EventFeed {
  private readonly js: JetStreamClient;
  private readonly followers: Follower[] = [];
  private readonly advisories: Subscription;
  private readonly sleepers = new Set<() => void>();
  private jsm?: Promise<JetStreamManager>;
  /** When the stream the feed's followers last started on was made. */
  private created?: string;
  private readonly checker: NodeJS.Timeout;
  private checking = false;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly hooks: EventFeedHooks = {},
  ) {
    this.js = jetstream(nc, { timeout: API_TIMEOUT_MS });
    this.advisories = nc.subscribe(streamAdvisories(stream), {
      callback: (err, msg) => {
        if (err) {
          hooks.warn?.(
            `cannot hear ${streamAdvisories(stream)} (${err.message}): a lost ${stream} stream is ` +
              `noticed only by the look-up every ${STREAM_CHECK_MS / 1000} s`,
          );
          return;
        }
        if (!STREAM_CHANGES.has(msg.subject.split('.')[4])) return;
        for (const f of this.followers) void this.renew(f);
      },
    });
    void this.watch();
    this.checker = setInterval(() => void this.check(), STREAM_CHECK_MS);
    this.checker.unref();
  }

  /** Applies every event on `subject` published from `since` on, then keeps following. */
  async follow<T>(subject: string, since: Date, handle: (event: T) => void): Promise<void> {
    const f: Follower = { subject, since, handle: handle as (e: unknown) => void, lastSeq: 0 };
    this.followers.push(f);
    await this.start(f);
  }

  private async start(f: Follower): Promise<void> {
    const { created } = await (await this.manager()).streams.info(this.stream);
    if (this.created !== created) {
      const lost = this.created !== undefined;
      this.created = created;
      if (lost) this.hooks.newStream?.(created);
    }
    const replaced = f.streamCreated !== undefined && f.streamCreated !== created;
    if (replaced) f.lastSeq = 0;
    const position = replaced
      ? { deliver_policy: DeliverPolicy.All }
      : f.lastSeq
        ? { opt_start_seq: f.lastSeq + 1 }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: f.since.toISOString() };
    // A single subject as a string: multi-subject filters need nats-server 2.10, Debian ships 2.9.
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: f.subject, ...position });
    // What the stream held for this follower when its consumer was made: read all, it is current.
    const pending = (await consumer.info(true)).num_pending;
    const messages = await consumer.consume();
    f.streamCreated = created;
    f.messages = messages;
    if (f.behind) f.resumed = messages;
    if (pending === 0) this.caughtUp(f, messages);
    void (async () => {
      for await (const m of messages) {
        f.lastSeq = m.seq;
        try {
          f.handle(m.json());
        } catch {
          // A malformed event changes nothing; the feed goes on.
        }
        if (m.info.pending === 0) this.caughtUp(f, messages);
      }
      // The consumer ended without close() (its stream was deleted): follow the stream again.
      if (f.messages === messages) await this.renew(f);
    })();
    void (async () => {
      // nats.js says at once when the stream is gone, long before the consumer itself gives up.
      for await (const status of messages.status()) {
        if (!STREAM_GONE.has(status.type) || f.messages !== messages) continue;
        await this.renew(f);
        return;
      }
    })();
  }

  /** When the stream the feed's followers last started on was made (JetStream's `created`). */
  get streamCreated(): string | undefined {
    return this.created;
  }

  /**
   * False from the moment the connection drops until every follower, restarted after the
   * reconnect, has read what the stream took meanwhile: whoever judges by the state the feed keeps
   * must not judge by it in between (nats.js subscribes again before the followers can restart).
   */
  get current(): boolean {
    return this.followers.every((f) => !f.behind);
  }

  private fallBehind(): void {
    const was = this.current;
    for (const f of this.followers) {
      f.behind = true;
      f.resumed = undefined;
    }
    if (was && this.followers.length) this.hooks.currentChanged?.(false);
  }

  private caughtUp(f: Follower, by: ConsumerMessages): void {
    if (!f.behind || f.resumed !== by) return;
    f.behind = false;
    f.resumed = undefined;
    if (this.current) this.hooks.currentChanged?.(true);
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= this.js.jetstreamManager().catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    return this.jsm;
  }

  /**
   * Looks the stream up and renews each follower that does not read it (gone, or another one). The
   * advisories and the consumers' notices say so at once, but neither always comes: a stream
   * deleted 30 ms after it was made produced no DELETED advisory here, and only one of nine
   * consumers heard "consumer deleted". This bounds what is missed then to one interval.
   */
  private async check(): Promise<void> {
    if (this.checking || this.closed || this.created === undefined) return;
    this.checking = true;
    try {
      const created = await (await this.manager()).streams.info(this.stream).then(
        (i) => i.created,
        (err: unknown) => (isStreamNotFound(err) ? null : this.created),
      );
      // Per follower: one that heard of the change may already read the new stream, another not.
      if (!this.closed) for (const f of this.followers) if (f.streamCreated !== created) void this.renew(f);
    } catch {
      // No answer (NATS down, say): the reconnect renews the followers.
    } finally {
      this.checking = false;
    }
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) continue;
      if (s.type === 'disconnect') this.fallBehind();
      if (s.type !== 'reconnect') continue;
      // Side by side, as on an advisory: one follower waiting for a missing stream holds no other up.
      for (const f of this.followers) void this.renew(f);
    }
  }

  private async stop(f: Follower): Promise<void> {
    const old = f.messages;
    f.messages = undefined;
    await Promise.resolve(old?.close()).catch(() => undefined);
  }

  /**
   * Drops the follower's consumer and starts it again until it runs (or the feed is closed). One
   * restart at a time: a renewal during a restart marks it stale, and wakes it if it waits.
   */
  private async renew(f: Follower): Promise<void> {
    if (f.restarting) {
      f.stale = true;
      for (const wake of this.sleepers) wake();
      return;
    }
    f.restarting = true;
    try {
      await this.stop(f);
      for (let attempt = 0; !this.closed;) {
        f.stale = false;
        try {
          await this.start(f);
        } catch (err) {
          if (isStreamNotFound(err)) this.hooks.streamMissing?.();
          // Short waits: while the stream is missing, the first event of its new incarnation (a
          // revocation) must still reach every replica within a second of being published.
          await this.sleep(Math.min(250, 25 * 2 ** attempt++));
          continue;
        }
        if (!f.stale && !this.closed) return;
        await this.stop(f);
        attempt = 0;
      }
    } finally {
      f.restarting = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checker);
    if (!this.nc.isClosed()) this.advisories.unsubscribe();
    for (const wake of this.sleepers) wake();
    for (const f of this.followers) await this.stop(f);
  }
}
