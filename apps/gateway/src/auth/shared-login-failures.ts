import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { KV, Kvm } from '@nats-io/kv';
import { NatsConnection } from '@nats-io/transport-node';
import { LOGIN_FAILURES_BUCKET } from '@portcullis/contracts';

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

/** A login waits at most this long for the shared count before the local one decides alone. */
const TIMEOUT_MS = 2000;

/** Compare-and-set retries before a failure is given up on (each loses only to another replica's write). */
const MAX_ATTEMPTS = 64;

const conflict = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/**
 * Failed logins per address in a JetStream KV bucket, so every gateway replica counts one address's
 * failures together and blocks it together: behind a load balancer, N replicas with a counter each
 * would let an address guess N times as often. Each address is one key, changed by compare-and-set
 * on its revision. Expiry is judged on the stored times; the bucket's max age only clears old keys.
 */
export class SharedLoginFailures {
  private bucket?: Promise<KV>;

  constructor(
    private readonly nc: () => Promise<NatsConnection>,
    private readonly rules: FailureRules,
    private readonly bucketName = LOGIN_FAILURES_BUCKET,
  ) {}

  /** Until when (ms since the epoch) the address is blocked; 0 when it is not. */
  blockedUntil(ip: string, now = Date.now()): Promise<number> {
    return this.withBucket(async (kv) => {
      const entry = await kv.get(keyOf(ip));
      const stored = entry?.operation === 'PUT' ? entry.json<Failures>() : undefined;
      return stored && stored.blockedUntil > now ? stored.blockedUntil : 0;
    });
  }

  /** Counts one failure; returns until when the address is now blocked (0: not blocked). */
  recordFailure(ip: string): Promise<number> {
    return this.withBucket((kv) => this.countFailure(kv, keyOf(ip)));
  }

  private async countFailure(kv: KV, key: string): Promise<number> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await kv.get(key);
      const now = Date.now();
      const stored = entry?.operation === 'PUT' ? entry.json<Failures>() : undefined;
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

  /** After any failure the bucket is opened (or made) again on next use, in case it was deleted. */
  private async withBucket<T>(work: (kv: KV) => Promise<T>): Promise<T> {
    try {
      this.bucket ??= this.open();
      return await work(await this.bucket);
    } catch (err) {
      this.bucket = undefined;
      throw err;
    }
  }

  private async open(): Promise<KV> {
    const kvm = new Kvm(jetstream(await this.nc(), { timeout: TIMEOUT_MS }));
    const ttl = Math.max(this.rules.windowMs, this.rules.blockMs);
    // Replicas started with other settings find the bucket already made: it is used as it is,
    // since every expiry is judged on the times stored in the entries.
    return kvm.create(this.bucketName, { history: 1, ttl }).catch(() => kvm.open(this.bucketName));
  }
}

/** KV keys allow letters, digits and `-_=./`; an IPv6 address has colons. */
function keyOf(ip: string): string {
  return Buffer.from(ip).toString('base64url');
}
