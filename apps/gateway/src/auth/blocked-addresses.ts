/** Entries recorded between two sweeps of the blocks that have run out. */
const SWEEP_EVERY = 1024;

/**
 * The addresses the shared failed-login bucket holds as blocked, as this replica last heard of them
 * (its KV watch, and its own writes). A login asks this map instead of asking JetStream: a read per
 * login cost the gateway a NATS round trip and a socket write, a tenth of the login benchmark.
 *
 * Only blocks are kept, each until it runs out. There are at most as many as addresses that failed
 * LOGIN_FAILURES_PER_IP times within a block time, and every failure costs auth-core an argon2id hash.
 */
export class BlockedAddresses {
  private readonly until = new Map<string, number>();
  private recorded = 0;

  /** What the bucket now says of `key`: blocked until `until` (ms), or 0 for not blocked or deleted. */
  record(key: string, until: number, now = Date.now()): void {
    if (until > now) this.until.set(key, until);
    else this.until.delete(key);
    if (++this.recorded % SWEEP_EVERY === 0) this.sweep(now);
  }

  /** Until when `key` is blocked (ms since the epoch); 0 when it is not. */
  blockedUntil(key: string, now = Date.now()): number {
    const until = this.until.get(key);
    if (until === undefined) return 0;
    if (until > now) return until;
    this.until.delete(key);
    return 0;
  }

  get size(): number {
    return this.until.size;
  }

  private sweep(now: number): void {
    for (const [key, until] of this.until) if (until <= now) this.until.delete(key);
  }
}
