import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { EVENTS, PrincipalDisabledEvent, RevocationSnapshot, TokenRevokedEvent } from '@portcullis/contracts';
import { PrincipalKind, RevocationState, RevocationStateCopy } from '@portcullis/jwt';
import { streamMadeNoEarlier } from '@portcullis/event-feed';
import { ClientsRepository } from '../clients/clients.repository';
import { EventBusService } from '../events/event-bus.service';
import { observeRevocationLag } from '../metrics/metrics';
import { UsersRepository } from '../users/users.repository';
import { AccessTokensRepository } from './access-tokens.repository';

type Principal = { kind: PrincipalKind; id: string };

const principals = (users: string[], clients: string[]): Principal[] => [
  ...users.map((id) => ({ kind: 'user' as const, id })),
  ...clients.map((id) => ({ kind: 'client' as const, id })),
];

/** One event as RevocationCacheService applied it, for a copy of its state to apply too. */
export type RevocationChange = { revoked: TokenRevokedEvent } | { disabled: PrincipalDisabledEvent };

/**
 * Revoked token ids and disabled principals for validation (libs/jwt RevocationState), loaded
 * from PostgreSQL at start and kept current by JetStream events, so validation keeps answering
 * while the database is down.
 */
@Injectable()
export class RevocationCacheService implements OnApplicationShutdown {
  private readonly state = new RevocationState();
  private readonly listeners: Array<(change: RevocationChange) => void> = [];
  private sweeper?: NodeJS.Timeout;
  private loaded = false;
  /** The stream incarnation this state is current with (RevocationSnapshot.stream). */
  private currentWith?: string;
  private markLoaded!: () => void;
  private readonly loading = new Promise<void>((resolve) => (this.markLoaded = resolve));

  constructor(
    private readonly bus: EventBusService,
    private readonly tokens: AccessTokensRepository,
    private readonly users: UsersRepository,
    private readonly clients: ClientsRepository,
  ) {}

  async init(since: Date): Promise<void> {
    const { revoked, disabled } = await this.read();
    this.state.applyRevoked({ tokens: revoked });
    this.state.loadDisabled(disabled, since.getTime());
    this.bus.onNewStream('reloading revocations', (stream) => this.reload(stream));
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
    this.currentWith = this.bus.streamCreated();
    this.sweeper = setInterval(() => this.state.sweep(), 60_000).unref();
    this.loaded = true;
    this.markLoaded();
  }

  private async read(): Promise<{ revoked: TokenRevokedEvent['tokens']; disabled: Principal[] }> {
    const revoked = await this.tokens.revokedUnexpired();
    const disabled = principals(await this.users.disabledIds(), await this.clients.disabledIds());
    return { revoked, disabled };
  }

  /**
   * The events stream was lost, with whatever events this replica had not read from it yet: the
   * state is read again from PostgreSQL and applied as events stamped with the read's start, so
   * that one applied meanwhile (newer) stands.
   */
  private async reload(stream: string): Promise<void> {
    const at = new Date().toISOString();
    const { revoked, disabled } = await this.read();
    const enabledAgain = await this.enabledAgain(this.state.snapshot().disabled);
    this.applyRevoked({ tokens: revoked, reason: 'reload', at });
    for (const p of enabledAgain) this.applyDisabled({ ...p, disabled: false, at });
    for (const p of disabled) this.applyDisabled({ ...p, disabled: true, at });
    // Reloads for two losses in a row may finish out of order: the newer stream stands.
    if (!streamMadeNoEarlier(this.currentWith, stream)) this.currentWith = stream;
  }

  /**
   * Those of `refused` (refused here) that PostgreSQL has enabled. Not those it lacks: a deleted
   * principal stays refused in memory, as when it was deleted (see ClientLifecycleHandler.delete).
   */
  private async enabledAgain(refused: Principal[]): Promise<Principal[]> {
    const ids = (kind: PrincipalKind) => refused.filter((p) => p.kind === kind).map((p) => p.id);
    return principals(await this.users.enabledAmong(ids('user')), await this.clients.enabledAmong(ids('client')));
  }

  isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * Resolves once keys and revocations are loaded (StartupService loads them in that order): true,
   * or false if `stopped()` turned true meanwhile. What a subscription that judges or issues tokens
   * waits for. If loading fails the replica does not start, so nothing is left waiting.
   */
  async whenLoaded(stopped: () => boolean): Promise<boolean> {
    await this.loading;
    return !stopped();
  }

  /**
   * Whether this state can vouch for a token now: not while this replica's NATS connection is down
   * nor after it comes back until the feed has caught up (requests reach the replica again before
   * the events it missed meanwhile do).
   */
  isCurrent(): boolean {
    return this.bus.isCurrent();
  }

  onCurrentChange(listener: (current: boolean) => void): void {
    this.bus.onCurrentChange(listener);
  }

  isRevoked(tid: string): boolean {
    return this.state.isRevoked(tid);
  }

  isDisabled(kind: PrincipalKind, id: string): boolean {
    return this.state.isDisabled(kind, id);
  }

  applyRevoked(event: TokenRevokedEvent): void {
    this.state.applyRevoked(event);
    for (const listener of this.listeners) listener({ revoked: event });
  }

  /** Applied here directly and again from the feed: an older event never undoes a newer one. */
  applyDisabled(event: PrincipalDisabledEvent): void {
    this.state.applyDisabled(event);
    for (const listener of this.listeners) listener({ disabled: event });
  }

  /** Every event applied from now on, in order: a copy() that applies them stays exactly this state. */
  onChange(listener: (change: RevocationChange) => void): void {
    this.listeners.push(listener);
  }

  copy(): RevocationStateCopy {
    return this.state.copy();
  }

  snapshot(): RevocationSnapshot {
    return { ...this.state.snapshot(), stream: this.currentWith };
  }

  onApplicationShutdown(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }
}
