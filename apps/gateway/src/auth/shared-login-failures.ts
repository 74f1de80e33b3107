import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { KV, KvWatchEntry, Kvm } from '@nats-io/kv';
import { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { LOGIN_FAILURES_BUCKET } from '@portcullis/contracts';
import { BlockedAddresses } from './blocked-addresses';

/** One address's failures as stored: counted in a fixed window, blocked until `blockedUntil` (ms). */
interface Failures {
  hits: number;
  windowEndsAt: number;
  blockedUntil: number;
}

export interface FailureRules {
  limit: number;
  windowMs: number;
  blockMs: number;
}

/** Where the watch reports its state changes (the gateway's log). */
export type WatchLog = (level: 'log' | 'warn', message: string) => void;

/** A login waits at most this long for the shared count before the local one decides alone. */
const TIMEOUT_MS = 2000;

/** A watch that failed or ended is made again after this long (each login asks the bucket meanwhile). */
const REWATCH_MS = 5000;

/** Compare-and-set retries before a failure is given up on (each loses only to another replica's write). */
const MAX_ATTEMPTS = 64;

const conflict = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** A watch of the bucket and the blocks it has told of; `live` once it has caught up with the bucket. */
interface Watcher {
  readonly blocks: BlockedAddresses;
  readonly entries: QueuedIterator<KvWatchEntry>;
  live: boolean;
}

/**
 * Failed logins per address in a JetStream KV bucket, so every gateway replica counts one address's
 * failures together and blocks it together: behind a load balancer, N replicas with a counter each
 * would let an address guess N times as often. Each address is one key, changed by compare-and-set
 * on its revision. Expiry is judged on the stored times; the bucket's max age only clears old keys.
 *
 * Whether an address is blocked is read from a watch of the bucket kept in this process, not asked
 * of JetStream at every login. Another replica's block is therefore heard of as fast as JetStream
 * delivers it (well under a millisecond on a healthy cluster), not at its write. Until the watch has
 * caught up, and again after any failure of the bucket, each login asks the bucket as before.
 */
export class SharedLoginFailures {
  private bucket?: Promise<KV>;
  private watcher?: Watcher;
  /** Moves on whenever the watch is dropped, so a watch still being made knows it is stale. */
  private epoch = 0;
  private closed = false;
  private warned = false;

  constructor(
    private readonly nc: () => Promise<NatsConnection>,
    private readonly rules: FailureRules,
    private readonly bucketName = LOGIN_FAILURES_BUCKET,
    private readonly log: WatchLog = () => undefined,
  ) {}

  /**
   * Until when (ms since the epoch) the address is blocked; 0 when it is not. From the watched copy
   * once it is live, unless `fresh` asks for the bucket's own answer.
   */
  blockedUntil(ip: string, now = Date.now(), fresh = false): Promise<number> {
    const key = keyOf(ip);
    if (this.watcher?.live && !fresh) return Promise.resolve(this.watcher.blocks.blockedUntil(key, now));
    return this.withBucket(async (kv) => {
      const entry = await kv.get(key);
      const stored = entry?.operation === 'PUT' ? entry.json<Failures>() : undefined;
      return stored && stored.blockedUntil > now ? stored.blockedUntil : 0;
    });
  }

  /** Counts one failure; returns until when the address is now blocked (0: not blocked). */
  recordFailure(ip: string): Promise<number> {
    const key = keyOf(ip);
    return this.withBucket(async (kv) => {
      const until = await this.countFailure(kv, key);
      // Blocked here at once, not when this replica's watch brings its own write back.
      if (until) this.watcher?.blocks.record(key, until);
      return until;
    });
  }

  /** Whether logins are judged on the watched copy (false: each asks the bucket). */
  get watching(): boolean {
    return !!this.watcher?.live;
  }

  /** Stops the watch (at shutdown, before the connection drains); nothing is watched after. */
  close(): void {
    this.closed = true;
    this.unwatch();
  }

  private async countFailure(kv: KV, key: string): Promise<number> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await kv.get(key);
      const now = Date.now();
      const stored = entry?.operation === 'PUT' ? entry.json<Failures>() : undefined;
      if (attempt === 0) this.checkWatch(kv, key, stored, now);
      if (stored && stored.blockedUntil > now) return stored.blockedUntil;
      // A block that has run out starts a fresh window, as a window that has.
      const next: Failures =
        stored && !stored.blockedUntil && stored.windowEndsAt > now
          ? { ...stored, hits: stored.hits + 1 }
          : { hits: 1, windowEndsAt: now + this.rules.windowMs, blockedUntil: 0 };
      if (next.hits >= this.rules.limit) next.blockedUntil = now + this.rules.blockMs;
      try {
        if (entry) await kv.update(key, JSON.stringify(next), entry.revision);
        else await kv.create(key, JSON.stringify(next));
        return next.blockedUntil;
      } catch (err) {
        if (!conflict(err)) throw err;
      }
      // Another replica wrote first: read again, after a short random pause when many collide.
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * attempt));
    }
    throw new Error(`failed login not counted: ${MAX_ATTEMPTS} concurrent updates of one address`);
  }

  /**
   * After any failure the bucket is opened (or made) again on next use, in case it was deleted, and
   * watched afresh: a watch of a bucket that was lost and made again could have missed its writes.
   */
  private async withBucket<T>(work: (kv: KV) => Promise<T>): Promise<T> {
    try {
      this.bucket ??= this.open();
      return await work(await this.bucket);
    } catch (err) {
      this.bucket = undefined;
      this.unwatch();
      throw err;
    }
  }

  private async open(): Promise<KV> {
    const kvm = new Kvm(jetstream(await this.nc(), { timeout: TIMEOUT_MS }));
    const ttl = Math.max(this.rules.windowMs, this.rules.blockMs);
    // Replicas started with other settings find the bucket already made: it is used as it is,
    // since every expiry is judged on the times stored in the entries.
    const kv = await kvm.create(this.bucketName, { history: 1, ttl }).catch(() => kvm.open(this.bucketName));
    if (!this.closed) void this.watch(kv);
    return kv;
  }

  /**
   * Follows the bucket into `watcher.blocks`. The watch first replays every key's last value; it is
   * live (trusted to answer logins) from the last of those on, or at once when the bucket is empty.
   * Until then, and whenever the watch fails or ends, logins ask the bucket; a failed watch is made
   * again after REWATCH_MS.
   */
  private async watch(kv: KV): Promise<void> {
    this.unwatch();
    const epoch = this.epoch;
    let failure = 'the watch ended';
    try {
      const entries = await kv.watch();
      // Closed, or the bucket failed, while the watch was being made: it would watch the wrong one.
      if (this.closed || epoch !== this.epoch) return entries.stop();
      const watcher: Watcher = { blocks: new BlockedAddresses(), entries, live: false };
      this.watcher = watcher;
      // Empty now means no block was there when the watch began: a key expires only after its block.
      if ((await kv.status()).values === 0) this.goLive(watcher);
      for await (const e of entries) {
        watcher.blocks.record(e.key, e.operation === 'PUT' ? blockOf(e) : 0);
        if (e.isUpdate && !watcher.live) this.goLive(watcher);
      }
    } catch (err) {
      failure = (err as Error).message;
    } finally {
      // A watch this code stopped (a newer one, a failed bucket, close) has not failed.
      if (epoch === this.epoch && !this.closed) this.watchFailed(kv, failure);
    }
  }

  private goLive(watcher: Watcher): void {
    if (this.watcher !== watcher) return;
    watcher.live = true;
    this.warned = false;
    this.log('log', 'following the shared failed-login count (KV watch)');
  }

  private watchFailed(kv: KV, reason: string): void {
    this.unwatch();
    // Once per outage: without the consumer permissions of deploy/README.md it fails every time.
    if (!this.warned) this.log('warn', `failed-login watch unavailable, each login asks the shared count: ${reason}`);
    this.warned = true;
    const epoch = this.epoch;
    // Unless the bucket failed (or was closed) meanwhile: its next use makes the watch then.
    setTimeout(() => epoch === this.epoch && !this.closed && void this.watch(kv), REWATCH_MS).unref();
  }

  /**
   * A block the bucket holds that the watch never brought means the watch is behind: its bucket was
   * lost and made again, say, under a consumer that resumed past the new writes. It is made afresh,
   * and logins ask the bucket until it has caught up. A failure is when this matters, and when the
   * bucket is read anyway.
   */
  private checkWatch(kv: KV, key: string, stored: Failures | undefined, now: number): void {
    const w = this.watcher;
    if (!w?.live || !stored || stored.blockedUntil <= now) return;
    if (w.blocks.blockedUntil(key, now) !== stored.blockedUntil) void this.watch(kv);
  }

  private unwatch(): void {
    this.epoch++;
    const w = this.watcher;
    this.watcher = undefined;
    if (w) {
      w.live = false;
      w.entries.stop();
    }
  }
}

/** The block an entry holds; 0 for none, or for a value this code did not write. */
function blockOf(e: KvWatchEntry): number {
  try {
    const until = e.json<Failures>().blockedUntil;
    return typeof until === 'number' ? until : 0;
  } catch {
    return 0;
  }
}

/** KV keys allow letters, digits and `-_=./`; an IPv6 address has colons. */
function keyOf(ip: string): string {
  return Buffer.from(ip).toString('base64url');
}
