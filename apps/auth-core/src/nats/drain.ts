import { Subscription } from '@nats-io/transport-node';

/** `p`, or undefined once `ms` have passed; the timer is cleared, so it never holds the process open. */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A responder's own subscription and the requests it has taken and not yet answered: what a drain
 * at shutdown waits for. NATS first stops routing here, then whatever it already routed is
 * answered; each of the two waits is bounded.
 */
export class ResponderSubscription {
  private sub?: Subscription;
  private pending = 0;
  private idle?: () => void;

  attach(sub: Subscription): void {
    this.sub = sub;
  }

  get inFlight(): number {
    return this.pending;
  }

  taken(): void {
    this.pending++;
  }

  answered(): void {
    if (--this.pending === 0) this.idle?.();
  }

  async drain(timeoutMs: number): Promise<void> {
    if (!this.sub) return;
    await bounded(
      this.sub.drain().catch(() => undefined),
      timeoutMs,
    );
    if (this.pending > 0) await bounded(new Promise<void>((r) => (this.idle = r)), timeoutMs);
  }
}
