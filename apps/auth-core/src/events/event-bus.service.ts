import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager, JetStreamClient } from '@nats-io/jetstream';
import { EventFeed } from '@portcullis/event-feed';
import { nanos } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_WILDCARD, PortcullisError } from '@portcullis/contracts';
import { NatsConnectionService } from '../nats/nats-connection.service';

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
   * Resolves once JetStream has stored the event. When it cannot (NATS or JetStream down, the
   * stream refusing writes) the caller gets UNAVAILABLE — a 503 to retry, not an internal error —
   * and the stream is looked up again next time, in case it was lost.
   */
  async publish(subject: string, payload: object): Promise<void> {
    try {
      const js = await this.ensureStream();
      await js.publish(subject, JSON.stringify(payload));
    } catch (err) {
      this.streamReady = undefined;
      throw new PortcullisError('UNAVAILABLE', `Event stream unavailable: ${(err as Error).message}`);
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
    this.feed ??= new EventFeed(await this.nats.connection(), EVENTS_STREAM);
    await this.feed.follow<T>(subject, since, onEvent);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed?.close();
  }
}
