import { Subscription } from '@nats-io/transport-node';

/** `p`, or undefined once `ms` have passed; the timer is cleared, so it never holds the process open. */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Drains a responder's own subscription: NATS stops routing here, then whatever it already routed
 * is answered. `onIdle` registers the callback the responder calls when its last request is
 * answered. Each wait is bounded by `timeoutMs`.
 */
export async function drainResponder(
  sub: Subscription | undefined,
  inFlight: () => number,
  onIdle: (idle: () => void) => void,
  timeoutMs: number,
): Promise<void> {
  if (!sub) return;
  await bounded(
    sub.drain().catch(() => undefined),
    timeoutMs,
  );
  if (inFlight() > 0) await bounded(new Promise<void>((r) => onIdle(r)), timeoutMs);
}
