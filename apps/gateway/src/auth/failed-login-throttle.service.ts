import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { PortcullisError } from '@portcullis/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { CoreClientService } from '../core/core-client.service';
import { SharedLoginFailures } from './shared-login-failures';
import { throttledAddress } from './throttled-address';

const THROTTLER = 'failed-login';
const SHARED_RETRY_MS = 1000;

/** The seconds a refused caller should wait, for the `Retry-After` header (RFC 9110 §10.2.3). */
export const RETRY_AFTER = Symbol('retryAfterSeconds');

function retryLater(message: string, seconds: number): PortcullisError {
  return Object.assign(new PortcullisError('TOO_MANY_REQUESTS', message), { [RETRY_AFTER]: seconds });
}

/** Sets `Retry-After` when the error says how long to wait. */
export function setRetryAfter(err: unknown, reply: { header(name: string, value: string): unknown }): void {
  const seconds = (err as { [RETRY_AFTER]?: unknown } | null)?.[RETRY_AFTER];
  if (typeof seconds === 'number') reply.header('Retry-After', String(seconds));
}

/**
 * Per-IP throttle of failed logins, on top of auth-core's per-account lockout. Only failures
 * count, so busy but honest clients are never slowed; an address that keeps guessing is blocked
 * for a while — which also stops one address from keeping an account locked forever.
 *
 * The count is shared by the gateway replicas (SharedLoginFailures, a JetStream KV bucket). Each
 * replica also keeps its own count, which can only be lower: if JetStream does not answer, the
 * throttle falls back to it instead of disappearing, and says so in the log.
 */
@Injectable()
export class FailedLoginThrottleService implements OnModuleDestroy {
  private readonly logger = new Logger('FailedLoginThrottle');
  private readonly storage = new ThrottlerStorageService();
  private readonly shared: SharedLoginFailures;
  /** Set when the shared count failed, cleared when it answers again: until then it is left alone. */
  private sharedRetryAt = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    core: CoreClientService,
  ) {
    // Bounded like every request: a NATS that hangs must not hold a login past REQUEST_TIMEOUT_MS.
    this.shared = new SharedLoginFailures(
      () => core.connectWithin(config.REQUEST_TIMEOUT_MS),
      {
        limit: config.LOGIN_FAILURES_PER_IP,
        windowMs: config.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
        blockMs: config.LOGIN_BLOCK_SECONDS * 1000,
      },
      undefined,
      (level, message) => this.logger[level](message),
    );
  }

  /** Before CoreClientService drains the connection at shutdown: the watch would hold it open. */
  onModuleDestroy(): void {
    this.shared.close();
  }

  /** Throws TOO_MANY_REQUESTS while the address (an IPv6 address's /64) is blocked. */
  async assertAllowed(address: string): Promise<void> {
    const ip = throttledAddress(address);
    const local = this.storage.storage.get(this.key(ip));
    const localUntil = local?.isBlocked ? local.blockExpiresAt : 0;
    // An address that has failed here lately is asked of the bucket itself, not of the watched copy:
    // a block another replica has just made then holds here at once, for whoever keeps guessing.
    const shared = await this.fromShared(() => this.shared.blockedUntil(ip, Date.now(), !!local), 0);
    const until = Math.max(localUntil, shared);
    if (until > Date.now()) {
      const seconds = Math.ceil((until - Date.now()) / 1000);
      throw retryLater(`Too many failed logins from this address; retry in ${seconds} s`, seconds);
    }
  }

  /** Runs a login; a credential failure counts against the address. */
  async guard<T>(address: string, login: () => Promise<T>): Promise<T> {
    await this.assertAllowed(address);
    const ip = throttledAddress(address);
    try {
      return await login();
    } catch (err) {
      if (err instanceof PortcullisError && err.code === 'INVALID_CREDENTIALS') {
        const c = this.config;
        await Promise.all([
          this.storage.increment(
            this.key(ip),
            c.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
            // The storage blocks once hits exceed the limit; the setting means "this many, then blocked".
            Math.max(0, c.LOGIN_FAILURES_PER_IP - 1),
            c.LOGIN_BLOCK_SECONDS * 1000,
            THROTTLER,
          ),
          this.fromShared(() => this.shared.recordFailure(ip), 0),
        ]);
      }
      throw err;
    }
  }

  /**
   * The shared count's answer, or `fallback` (the local count then decides) when JetStream fails.
   * After a failure the shared count is left alone for a second, so a JetStream that hangs delays
   * one login per second by its timeout, not every login.
   */
  private async fromShared<T>(read: () => Promise<T>, fallback: T): Promise<T> {
    if (Date.now() < this.sharedRetryAt) return fallback;
    try {
      const value = await read();
      if (this.sharedRetryAt) this.logger.log('shared failed-login count answers again');
      this.sharedRetryAt = 0;
      return value;
    } catch (err) {
      if (!this.sharedRetryAt)
        this.logger.warn(`shared failed-login count unavailable, this replica counts alone: ${(err as Error).message}`);
      this.sharedRetryAt = Date.now() + SHARED_RETRY_MS;
      return fallback;
    }
  }

  private key(ip: string): string {
    return `${THROTTLER}:${ip}`;
  }
}
