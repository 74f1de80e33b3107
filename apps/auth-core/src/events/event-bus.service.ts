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

  constructor(private readonly nats: NatsConnectionService) {}

  private async ensureStream(): Promise<JetStreamClient> {
    const nc = await this.nats.connection();
    this.streamReady ??= (async () => {
      const jsm = await jetstreamManager(nc);
      const config = {
        name: EVENTS_STREAM,
        subjects: [EVENTS_WILDCARD],
        max_age: nanos(EVENT_RETENTION_SECONDS * 1000),
      };
      try {
        await jsm.streams.info(EVENTS_STREAM);
        await jsm.streams.update(EVENTS_STREAM, { subjects: config.subjects, max_age: config.max_age });
      } catch {
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
   * (making it anew if it was lost) and tries once more; when that fails too (NATS or JetStream
   * down, the stream refusing writes) the caller gets UNAVAILABLE — a 503 to retry, not an
   * internal error.
   */
  async publish(subject: string, payload: object): Promise<void> {
    const data = JSON.stringify(payload);
    // The same id on the retry: if the first attempt was stored after all, JetStream drops the copy.
    const msgID = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        const js = await this.ensureStream();
        await js.publish(subject, data, { msgID, timeout: PUBLISH_TIMEOUT_MS });
        return;
      } catch (err) {
        this.streamReady = undefined;
        if (attempt === 2)
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
    this.feed ??= new EventFeed(await this.nats.connection(), EVENTS_STREAM, (m) => this.logger.warn(m));
    await this.feed.follow<T>(subject, since, onEvent);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed?.close();
  }
}
