import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { connect, headers as natsHeaders, Msg, NatsConnection } from '@nats-io/transport-node';
import { ERROR_HEADER, PortcullisError, REQUEST_ID_HEADER, Subject, toWireError } from '@portcullis/contracts';
import { atTurnEnd, describeNatsAuth, natsConnectionOptions } from '@portcullis/nats-options';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { MuxError, RequestMux } from './request-mux';

const unavailable = (message: string) => new PortcullisError('UNAVAILABLE', message);

/**
 * The gateway's only way to auth-core: NATS request/reply on the subjects of libs/contracts.
 * No responders, a timeout or a lost connection all become UNAVAILABLE (503), never a hang.
 */
@Injectable()
export class CoreClientService implements OnApplicationShutdown {
  private readonly logger = new Logger('CoreClient');
  private nc?: NatsConnection;
  private mux?: RequestMux;
  private connecting?: Promise<NatsConnection>;
  private linkUp = false;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async connect(): Promise<NatsConnection> {
    if (this.nc) return this.nc;
    const options = natsConnectionOptions(this.config, 'gateway');
    this.connecting ??= connect({
      ...options,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    }).then((nc) => {
      this.nc = nc;
      this.mux = new RequestMux(nc, this.config.REQUEST_TIMEOUT_MS);
      this.linkUp = true;
      void this.watch(nc);
      this.logger.log(`connected to ${nc.getServer()} (${describeNatsAuth(options)})`);
      return nc;
    });
    return this.connecting.catch((err: Error) => {
      this.connecting = undefined;
      throw unavailable(`NATS is unavailable: ${err.message}`);
    });
  }

  /**
   * The connection, waiting at most `ms` for one still being made: a NATS server that accepts the
   * socket but never answers (a dead node, a blackholed address) holds nats.js' connect for its
   * whole 20 s timeout, and a caller must hear 503 within REQUEST_TIMEOUT_MS, as for any request.
   * The attempt carries on in the background for the callers after it.
   */
  async connectWithin(ms: number): Promise<NatsConnection> {
    if (this.nc) return this.nc;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`NATS is unavailable: not connected within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.connect(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.linkUp = false;
      if (s.type === 'reconnect') this.linkUp = true;
    }
  }

  isConnected(): boolean {
    return !!this.nc && !this.nc.isClosed() && this.linkUp;
  }

  natsState(): string {
    if (!this.nc) return 'not connected';
    if (this.nc.isClosed()) return 'closed';
    return this.linkUp ? 'connected' : 'reconnecting';
  }

  async request<T>(subject: Subject, payload: unknown, requestId?: string): Promise<T> {
    await this.connectWithin(this.config.REQUEST_TIMEOUT_MS);
    const mux = this.mux!;
    const h = natsHeaders();
    if (requestId) h.set(REQUEST_ID_HEADER, requestId);
    const data = JSON.stringify(payload ?? {});
    let msg: Msg;
    try {
      // Published with the other requests of this event-loop turn: one socket write for all of them.
      msg = await new Promise<Msg>((resolve, reject) =>
        atTurnEnd(() => mux.request(subject, data, h).then(resolve, reject)),
      );
    } catch (err) {
      if (err instanceof MuxError && err.reason === 'no-responders') throw unavailable('auth-core is not available');
      if (err instanceof MuxError && err.reason === 'timeout') throw unavailable('auth-core did not answer in time');
      throw unavailable(`auth-core request failed: ${(err as Error).message}`);
    }
    if (msg.headers?.get(ERROR_HEADER)) {
      const e = toWireError(msg.json());
      throw new PortcullisError(e.code, e.message, e.details ?? null);
    }
    return msg.json<T>();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nc?.drain().catch(() => undefined);
  }
}
