import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  ERROR_HEADER,
  EVENTS,
  EVENTS_STREAM,
  JwksReply,
  KeysRotatedEvent,
  MetaReply,
  PrincipalDisabledEvent,
  RevocationSnapshot,
  SUBJECTS,
  TokenRevokedEvent,
  ValidateTokenReply,
} from '@portcullis/contracts';
import {
  publicKeyFromJwk,
  Requirements,
  RevocationState,
  SigningAlgorithm,
  TokenVerifier,
  verdict,
  VerifiedTokenCache,
} from '@portcullis/jwt';
import { EventFeed, streamMadeNoEarlier } from '@portcullis/event-feed';
import { unavailable } from './remote-validator';

const JWKS_REFRESH_COOLDOWN_MS = 5_000;

/**
 * How far behind an event already applied here a snapshot may be (RevocationState.loadDisabled):
 * the same 5 s the feed replays from before a snapshot at the first sync.
 */
const SNAPSHOT_LAG_MARGIN_MS = 5_000;

/** How long to wait before asking auth-core again for a state current with a new stream: doubled each time, up to 2 s. */
const CATCH_UP_RETRY_MS = 250;

/**
 * Verifies JWTs in-process with the very verifier and policy auth-core uses (libs/jwt), against
 * the JWKS and a revocation state it keeps current from the JetStream event stream. It fails
 * closed while it cannot vouch for that state: before its first sync, after a reconnect until it
 * has caught up, and whenever auth-core's heartbeat has been silent past the staleness bound.
 */
export class LocalValidator {
  private readonly verifier = new TokenVerifier();
  private readonly verified = new VerifiedTokenCache();
  private readonly state = new RevocationState();
  private readonly subs: Subscription[] = [];
  private feed?: EventFeed;
  private issuer = '';
  private audience = '';
  private clockSkew = 30;
  private lastHeartbeat = 0;
  private synced = false;
  private jwksRefresh?: Promise<void>;
  /** The load of a key a `keys.rotated` event announced, while it runs. */
  private announcedKey?: Promise<void>;
  private lastJwksFetch = 0;
  private closed = false;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: {
      issuer?: string;
      audience?: string;
      timeoutMs: number;
      stalenessBoundMs: number;
      /** Defaults to what auth-core announces (`auth.v1.meta`). */
      clockSkew?: number;
    },
  ) {}

  async start(): Promise<void> {
    this.subs.push(
      this.nc.subscribe(EVENTS.HEARTBEAT, {
        callback: () => {
          this.lastHeartbeat = Date.now();
        },
      }),
      // The same events straight off this connection, besides the JetStream feed: auth-core
      // publishes them before it answers the request that caused them, so they arrive here ahead
      // of that answer. Whoever sees a revocation or a disable answered over this connection
      // never gets the token accepted by it afterwards; the feed still covers reconnects.
      this.nc.subscribe(EVENTS.TOKEN_REVOKED, {
        callback: (_e, m) => this.onLive<TokenRevokedEvent>(m, (e) => this.state.applyRevoked(e)),
      }),
      this.nc.subscribe(EVENTS.PRINCIPAL_DISABLED, {
        callback: (_e, m) => this.onLive<PrincipalDisabledEvent>(m, (e) => this.state.applyDisabled(e)),
      }),
    );
    await this.sync();
    void this.watchConnection();
    this.sweeper = setInterval(() => this.state.sweep(), 60_000).unref();
  }

  private onLive<T>(msg: Msg, apply: (event: T) => void): void {
    try {
      apply(msg.json<T>());
    } catch {
      // A malformed event changes nothing; the JetStream feed delivers the stored copy as well.
    }
  }

  /** Snapshot first, then events from a little before it, so nothing falls in between. */
  private async sync(): Promise<void> {
    const meta = await this.ask<MetaReply>(SUBJECTS.META);
    this.issuer = this.opts.issuer ?? meta.issuer;
    this.audience = this.opts.audience ?? meta.audience;
    this.clockSkew = this.opts.clockSkew ?? (Number.isFinite(meta.clockSkew) ? meta.clockSkew : 30);
    await this.loadKeys();
    const snap = await this.ask<RevocationSnapshot>(SUBJECTS.REVOCATIONS_SNAPSHOT);
    this.applySnapshot(snap, SNAPSHOT_LAG_MARGIN_MS);
    if (!this.feed) await this.follow(new Date(Date.parse(snap.at) - 5000));
    this.lastHeartbeat = Date.now();
    this.synced = true;
  }

  /**
   * `marginMs`: after a (re)connect, events applied here up to that much older than the snapshot
   * stand (the replica answering may lag behind them, and they are not delivered again). Not after
   * a lost stream: then the snapshot is the one read from PostgreSQL for the new stream, and it
   * holds changes whose events were lost, which an older event must not undo.
   */
  private applySnapshot(snap: RevocationSnapshot, marginMs = 0): void {
    this.state.applyRevoked({ tokens: snap.revoked });
    this.state.loadDisabled(snap.disabled, Date.parse(snap.at), marginMs);
  }

  /**
   * The feed moved to a new incarnation of the stream (the old one was lost, with whatever events
   * this validator had not read from it): the state is taken again from auth-core, once the
   * replica answering has itself reloaded from PostgreSQL for that stream (`snap.stream`), and the
   * keys too, in case a rotation's event was among those lost. Validation goes on meanwhile, as on
   * auth-core's replicas during their reload; events live and from the new stream still apply.
   */
  private async catchUp(created: string): Promise<void> {
    for (let wait = CATCH_UP_RETRY_MS; !this.closed; wait = Math.min(wait * 2, 2000)) {
      const snap = await this.ask<RevocationSnapshot>(SUBJECTS.REVOCATIONS_SNAPSHOT).catch(() => undefined);
      // Without `stream` (an auth-core from before it was added) the snapshot is all there is.
      if (snap && (snap.stream === undefined || streamMadeNoEarlier(snap.stream, created))) {
        this.applySnapshot(snap);
        await this.loadKeys().catch(() => undefined);
        return;
      }
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  }

  private async follow(since: Date): Promise<void> {
    this.feed = new EventFeed(this.nc, EVENTS_STREAM, { newStream: (created) => void this.catchUp(created) });
    await this.feed.follow<TokenRevokedEvent>(EVENTS.TOKEN_REVOKED, since, (e) => this.state.applyRevoked(e));
    await this.feed.follow<PrincipalDisabledEvent>(EVENTS.PRINCIPAL_DISABLED, since, (d) =>
      this.state.applyDisabled(d),
    );
    await this.feed.follow<KeysRotatedEvent>(EVENTS.KEYS_ROTATED, since, (e) => {
      const loading: Promise<void> = this.loadKeysUntil(e.kid).finally(() => {
        if (this.announcedKey === loading) this.announcedKey = undefined;
      });
      this.announcedKey = loading;
    });
  }

  /** The replica answering the JWKS request may not have loaded the new key yet: retry briefly. */
  private async loadKeysUntil(kid: string): Promise<void> {
    for (let attempt = 0; attempt < 10 && !this.closed; attempt++) {
      await this.loadKeys().catch(() => undefined);
      if (this.verifier.hasKid(kid)) return;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }

  /**
   * While disconnected no event can arrive, and after a reconnect the state may lag: refuse from
   * the moment the link drops until a fresh snapshot is in.
   */
  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) continue;
      if (s.type === 'disconnect') this.synced = false;
      if (s.type !== 'reconnect') continue;
      this.synced = false;
      while (!this.synced && !this.closed) {
        await this.sync().catch(() => new Promise((r) => setTimeout(r, 1000)));
      }
    }
  }

  private async loadKeys(): Promise<void> {
    const jwks = await this.ask<JwksReply>(SUBJECTS.KEYS_JWKS);
    this.verifier.setKeys(
      jwks.keys.map((k) => ({ kid: String(k.kid), alg: String(k.alg) as SigningAlgorithm, key: publicKeyFromJwk(k) })),
    );
  }

  private async ask<T>(subject: string): Promise<T> {
    const msg = await this.nc.request(subject, '{}', { timeout: this.opts.timeoutMs });
    // A refusal (a replica still catching up, say) is no state to start from: asked again.
    const refused = msg.headers?.get(ERROR_HEADER);
    if (refused) throw new Error(`${subject} refused: ${refused}`);
    return msg.json<T>();
  }

  async validate(token: string, req: Requirements = {}): Promise<ValidateTokenReply> {
    if (this.closed) return unavailable('Local validation has been closed');
    if (!this.synced) return unavailable('Local validation is not synchronised with auth-core yet');
    // After a reconnect the snapshot may be in before the feed has read what was published meanwhile.
    if (this.feed && !this.feed.current)
      return unavailable('Local validation is catching up with the events published while NATS was away');
    if (Date.now() - this.lastHeartbeat > this.opts.stalenessBoundMs)
      return unavailable('Local validation state is stale: auth-core has been silent too long');
    const verifyOpts = { issuer: this.issuer, audience: this.audience, clockSkew: this.clockSkew };
    let result = this.verified.verify(this.verifier, token, verifyOpts);
    if (!result.ok && result.reason === 'UNKNOWN_KID' && (await this.keysMayHaveChanged()))
      result = this.verified.verify(this.verifier, token, verifyOpts);
    return verdict(result, req, this.state);
  }

  /**
   * An unknown kid may be the key of a rotation announced a moment ago, still being fetched: its
   * load is waited for, whatever the refetch cooldown (else a token of the new key, used right
   * after the rotation answered, was refused for as long as the JWKS had been refetched within 5 s).
   */
  private async keysMayHaveChanged(): Promise<boolean> {
    if (this.announcedKey) {
      await this.announcedKey;
      return true;
    }
    return this.refreshKeysOnce();
  }

  /** An unknown kid may be a key rotated in a moment ago: refetch, at most every few seconds. */
  private async refreshKeysOnce(): Promise<boolean> {
    // Only refetches caused by tokens count: any caller can send unknown kids.
    if (Date.now() - this.lastJwksFetch < JWKS_REFRESH_COOLDOWN_MS) return false;
    this.lastJwksFetch = Date.now();
    this.jwksRefresh ??= this.loadKeys().finally(() => (this.jwksRefresh = undefined));
    try {
      await this.jwksRefresh;
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const s of this.subs) s.unsubscribe();
    await this.feed?.close();
  }
}
