import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EVENTS, HeartbeatEvent } from '@portcullis/contracts';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { REPLICA_ID } from '../status/status.handler';

/**
 * A heartbeat on core NATS every second. SDKs validating locally treat its absence as
 * "I may be missing revocations" and fail closed once past their staleness bound.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(private readonly nats: NatsConnectionService) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.connection();
    const beat = () => {
      if (!nc.isClosed())
        nc.publish(
          EVENTS.HEARTBEAT,
          JSON.stringify({ replica: REPLICA_ID, at: new Date().toISOString() } satisfies HeartbeatEvent),
        );
    };
    beat();
    this.timer = setInterval(beat, 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
