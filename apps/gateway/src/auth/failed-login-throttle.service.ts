import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { PortcullisError } from '@portcullis/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';

const THROTTLER = 'failed-login';

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
 */
@Injectable()
export class FailedLoginThrottleService {
  private readonly storage = new ThrottlerStorageService();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** Throws TOO_MANY_REQUESTS while the address is blocked. */
  assertAllowed(ip: string): void {
    const record = this.storage.storage.get(this.key(ip));
    if (record?.isBlocked && record.blockExpiresAt > Date.now()) {
      const seconds = Math.ceil((record.blockExpiresAt - Date.now()) / 1000);
      throw retryLater(`Too many failed logins from this address; retry in ${seconds} s`, seconds);
    }
  }

  /** Runs a login; a credential failure counts against the address. */
  async guard<T>(ip: string, login: () => Promise<T>): Promise<T> {
    this.assertAllowed(ip);
    try {
      return await login();
    } catch (err) {
      if (err instanceof PortcullisError && err.code === 'INVALID_CREDENTIALS') {
        const c = this.config;
        await this.storage.increment(
          this.key(ip),
          c.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
          // The storage blocks once hits exceed the limit; the setting means "this many, then blocked".
          Math.max(0, c.LOGIN_FAILURES_PER_IP - 1),
          c.LOGIN_BLOCK_SECONDS * 1000,
          THROTTLER,
        );
      }
      throw err;
    }
  }

  private key(ip: string): string {
    return `${THROTTLER}:${ip}`;
  }
}
