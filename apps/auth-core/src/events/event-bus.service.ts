import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager, JetStreamClient } from '@nats-io/jetstream';
import { EventFeed } from '@portcullis/event-feed';
import { nanos } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_WILDCARD, PortcullisError } from '@portcullis/contracts';
import { NatsConnectionService } from '../nats/nats-connection.service';

/**
 * How long a publish waits for JetStream's ack. An ack takes milliseconds; without the stream no
 * ack ever comes (SDKs listening on the subject take the message and do not answer), and the
 * default 5 s would hold the revocation past the caller's own timeout.
 */
const PUBLISH_TIMEOUT_MS = 1000;

/**
 * Attempts of one publish, each after looking the stream up again. Two were once too few: right
 * after a loss, with three replicas making the stream again, CI saw the second attempt also find no
 * stream to take the event ("no responders"); it happened once in many runs and was not reproduced
 * here, even under load. A third look-up then finds (or makes) the new stream. With JetStream down
 * the caller hears UNAVAILABLE one look-up and pause (REMAKE_GRACE_MS) later than with two.
 */
const PUBLISH_ATTEMPTS = 3;

/**
 * How long a lost stream stays lost before this replica makes it again. nats-server (2.9.10 here)
 * removes a deleted stream's files after it has answered the delete: a stream made again under the
 * same name meanwhile loses its storage to that removal, and then acks events it never delivers to
 * any consumer. Measured here: 4 of 40 streams made again within milliseconds were broken so, none
 * of 80 made again after 100 or 250 ms.
 *
 * The pause counts from when this replica noticed the loss. Counting it from the last DELETED
 * advisory instead (so that a stream made by someone else and lost again during the pause restarts
 * it) was tried and dropped: a stream made 150 ms after a delete and deleted 150 ms later got no
 * DELETED advisory in 1 of 5 runs, the very case it was meant for.
 */
const REMAKE_GRACE_MS = 500;

/**
 * How long a stream request (look up, update, make) may take, not nats.js's 5 s: while the server
 * deletes a stream it can be slow to answer, and making a lost stream again is tried anew anyway.
 */
const STREAM_API_TIMEOUT_MS = 2000;

/** How long `runUntilDone` waits before it tries failed work again. */
export const RETRY_MS = 5000;

/** Events stay in the stream for a day: long enough to bridge any disconnect a replica survives. */
const EVENT_RETENTION_SECONDS = 24 * 3600;

/**
 * Durable events on JetStream. Publishing waits for the server's ack, so an event that was
 * acknowledged survives a crash of this replica; each replica follows the stream with an
 * ordered consumer, which resumes where it stopped after a reconnect.
 */
@Injectable()
export class EventBusService implements OnApplicationShutdown {
  private readonly logger = new Logger('EventBus');
  private js?: JetStreamClient;
  private streamReady?: Promise<void>;
  private feed?: EventFeed;
  private remaking?: Promise<void>;
  private remakeFailing = false;
  private stopped = false;
  private readonly newStreamListeners: Array<{ what: string; reload: (stream: string) => Promise<void> }> = [];
  private readonly currentListeners: Array<(current: boolean) => void> = [];

  constructor(private readonly nats: NatsConnectionService) {}

  private async ensureStream(): Promise<JetStreamClient> {
    const nc = await this.nats.connection();
    this.streamReady ??= (async () => {
      const jsm = await jetstreamManager(nc, { timeout: STREAM_API_TIMEOUT_MS });
      const config = {
        name: EVENTS_STREAM,
        subjects: [EVENTS_WILDCARD],
        max_age: nanos(EVENT_RETENTION_SECONDS * 1000),
      };
      try {
        await jsm.streams.info(EVENTS_STREAM);
        await jsm.streams.update(EVENTS_STREAM, { subjects: config.subjects, max_age: config.max_age });
      } catch {
        // `js` is set once the stream was first found or made: missing now, it was lost.
        if (this.js) await new Promise((r) => setTimeout(r, REMAKE_GRACE_MS));
        await jsm.streams.add(config);
      }
    })().catch((err: Error) => {
      this.streamReady = undefined;
      throw err;
    });
    await this.streamReady;
    this.js ??= jetstream(nc);
    return this.js;
  }

  /**
   * Resolves once JetStream has stored the event. A failed publish looks the stream up again
   * (making it anew if it was lost) and tries again, up to PUBLISH_ATTEMPTS in all; when those fail
   * too (NATS or JetStream down, the stream refusing writes) the caller gets UNAVAILABLE — a 503 to
   * retry, not an internal error.
   */
  async publish(subject: string, payload: object): Promise<void> {
    const data = JSON.stringify(payload);
    // The same id on each retry: if an attempt was stored after all, JetStream drops the copies.
    const msgID = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        const js = await this.ensureStream();
        await js.publish(subject, data, { msgID, timeout: PUBLISH_TIMEOUT_MS });
        return;
      } catch (err) {
        this.streamReady = undefined;
        if (attempt === PUBLISH_ATTEMPTS)
          throw new PortcullisError('UNAVAILABLE', `Event stream unavailable: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Stores the event in the stream without waiting for JetStream's ack (a plain publish on a
   * subject the stream captures): for notifications whose record lives in PostgreSQL (audit),
   * where an ack per event would cost a request round trip for nothing the caller could act on.
   */
  async notify(subject: string, payload: object): Promise<void> {
    await this.ensureStream();
    (await this.nats.connection()).publish(subject, JSON.stringify(payload));
  }

  /**
   * Follows `subject` from `since` on. Callers load the state from PostgreSQL first and pass the
   * instant they started loading, so nothing published in between is missed. The feed resumes
   * by itself after NATS reconnects (see EventFeed).
   */
  async follow<T>(subject: string, since: Date, onEvent: (event: T) => void): Promise<void> {
    await this.ensureStream();
    this.feed ??= new EventFeed(await this.nats.connection(), EVENTS_STREAM, {
      warn: (m) => this.logger.warn(m),
      streamMissing: () => this.remakeStream(),
      newStream: (created) => {
        this.logger.warn(`${EVENTS_STREAM} is a new stream: reloading what the lost one may have held unread`);
        for (const l of this.newStreamListeners) void this.runUntilDone(l.what, () => l.reload(created));
      },
      currentChanged: (current) => {
        if (!current)
          this.logger.warn('NATS connection lost: validation answers UNAVAILABLE until the feed has caught up');
        else this.logger.log('the events feed has caught up: validation answers again');
        for (const l of this.currentListeners) l(current);
      },
    });
    await this.feed.follow<T>(subject, since, onEvent);
  }

  /**
   * `reload` runs whenever this replica's feed moves to a new incarnation of the stream (the old
   * one was lost), given when the new one was made: events in the old one it had not read yet are
   * gone, so it reads again from PostgreSQL what they would have told it (`runUntilDone`: until it
   * succeeds).
   */
  onNewStream(what: string, reload: (stream: string) => Promise<void>): void {
    this.newStreamListeners.push({ what, reload });
  }

  /**
   * Whether this replica has read every event the stream took: false from the moment its NATS
   * connection drops until its feed, restarted after the reconnect, has read what was published
   * meanwhile (a revocation made by another replica, say).
   */
  isCurrent(): boolean {
    return this.feed?.current ?? true;
  }

  /** `listener` hears each change of isCurrent(). */
  onCurrentChange(listener: (current: boolean) => void): void {
    this.currentListeners.push(listener);
  }

  /** When the stream this replica's feed reads was made (JetStream's `created`); unset before it follows. */
  streamCreated(): string | undefined {
    return this.feed?.streamCreated;
  }

  /**
   * Work an event calls for, which must not be lost to one failure (a database read while
   * PostgreSQL is away): tried again every RETRY_MS until it succeeds or the replica stops.
   */
  async runUntilDone(what: string, work: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await work();
      } catch (err) {
        if (this.stopped) return;
        this.logger.error(`${what} failed, trying again in ${RETRY_MS / 1000} s: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
        if (this.stopped) return;
      }
    }
  }

  /**
   * The stream went missing under the feed: made again now (after REMAKE_GRACE_MS) rather than on
   * the next publish, so the feed finds a stream to read and the reload above runs now, not
   * whenever the next event (which may be hours away) happens to make it.
   */
  private remakeStream(): void {
    this.remaking ??= (async () => {
      this.streamReady = undefined;
      await this.ensureStream();
    })()
      .then(() => {
        this.remakeFailing = false;
      })
      .catch((err: Error) => {
        // Tried every 250 ms while it fails (JetStream down): said once, not each time.
        if (!this.remakeFailing) this.logger.warn(`cannot make ${EVENTS_STREAM} again yet: ${err.message}`);
        this.remakeFailing = true;
      })
      .finally(() => (this.remaking = undefined));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.feed?.close();
  }
}
