import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { natsConnectionOptions } from '@portcullis/nats-options';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';

/**
 * auth-core's own NATS connection for JetStream events (publishing and the revocation feed).
 * Request/reply runs on the Nest microservice transport; both use @nats-io/transport-node.
 */
@Injectable()
export class NatsConnectionService implements OnApplicationShutdown {
  private readonly logger = new Logger('Nats');
  private nc?: NatsConnection;

  constructor(@Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig) {}

  async connection(): Promise<NatsConnection> {
    if (!this.nc) {
      this.nc = await connect({
        ...natsConnectionOptions(this.config, 'auth-core-events'),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      this.logger.log(`connected to ${this.nc.getServer()}`);
    }
    return this.nc;
  }

  isConnected(): boolean {
    return !!this.nc && !this.nc.isClosed();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nc?.drain().catch(() => undefined);
  }
}
