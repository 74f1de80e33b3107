import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EVENTS, PrincipalDisabledEvent, RevocationSnapshot, TokenRevokedEvent } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { EventBusService } from '../events/event-bus.service';
import { observeRevocationLag } from '../metrics/metrics';

export type PrincipalKind = 'user' | 'client';

/**
 * What validation needs to know beyond the signature, held in memory: revoked token ids (until
 * they expire anyway) and disabled principals. Loaded from PostgreSQL at start and kept current
 * by JetStream events, so validation keeps answering while the database is down.
 */
@Injectable()
export class RevocationCacheService implements OnApplicationShutdown {
  private readonly revoked = new Map<string, number>();
  private readonly disabled = new Set<string>();
  private sweeper?: NodeJS.Timeout;
  private loaded = false;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBusService,
  ) {}

  async init(since: Date): Promise<void> {
    const revoked: Array<{ tid: string; exp: string }> = await this.ds.query(
      `SELECT tid, extract(epoch from expires_at)::bigint AS exp FROM access_tokens WHERE revoked AND expires_at > now() - interval '5 minutes'`,
    );
    for (const r of revoked) this.revoked.set(r.tid, Number(r.exp));
    const users: Array<{ id: string }> = await this.ds.query(`SELECT id FROM users WHERE NOT enabled`);
    for (const u of users) this.disabled.add(`user:${u.id}`);
    const clients: Array<{ id: string }> = await this.ds.query(`SELECT client_id AS id FROM clients WHERE NOT enabled`);
    for (const c of clients) this.disabled.add(`client:${c.id}`);
    // Lag is measured on the feed only: the replica that made the change also applies it directly
    // (RevocationService), which would report ~0 and hide how far behind the other replicas are.
    await this.bus.follow<TokenRevokedEvent>(EVENTS.TOKEN_REVOKED, since, (e) => {
      this.applyRevoked(e);
      observeRevocationLag('token', e.at);
    });
    await this.bus.follow<PrincipalDisabledEvent>(EVENTS.PRINCIPAL_DISABLED, since, (e) => {
      this.applyDisabled(e);
      observeRevocationLag('principal', e.at);
    });
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
    this.loaded = true;
  }

  isLoaded(): boolean {
    return this.loaded;
  }

  isRevoked(tid: string): boolean {
    return this.revoked.has(tid);
  }

  isDisabled(kind: PrincipalKind, id: string): boolean {
    return this.disabled.has(`${kind}:${id}`);
  }

  applyRevoked(event: TokenRevokedEvent): void {
    for (const t of event.tokens ?? []) if (typeof t?.tid === 'string') this.revoked.set(t.tid, Number(t.exp) || 0);
  }

  applyDisabled(event: PrincipalDisabledEvent): void {
    const key = `${event.kind}:${event.id}`;
    if (event.disabled) this.disabled.add(key);
    else this.disabled.delete(key);
  }

  /** Entries past expiry plus a margin beyond any clock skew can never matter again. */
  sweep(nowSeconds = Math.floor(Date.now() / 1000)): void {
    for (const [tid, exp] of this.revoked) if (exp + 600 < nowSeconds) this.revoked.delete(tid);
  }

  snapshot(): RevocationSnapshot {
    return {
      revoked: [...this.revoked].map(([tid, exp]) => ({ tid, exp })),
      disabled: [...this.disabled].map((key) => {
        const [kind, ...rest] = key.split(':');
        return { kind: kind as PrincipalKind, id: rest.join(':') };
      }),
      at: new Date().toISOString(),
    };
  }

  size(): number {
    return this.revoked.size;
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }
}
