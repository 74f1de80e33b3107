import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EVENTS, PrincipalDisabledEvent, TokenRevokedEvent } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { EventBusService } from '../events/event-bus.service';
import { AccessTokensRepository } from './access-tokens.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RevocationCacheService } from './revocation-cache.service';

const EVENT_CHUNK = 2000;

/**
 * Revokes tokens: marks them in PostgreSQL, applies them to this replica's cache at once, and
 * publishes the event every other replica (and SDK in local mode) follows. Idempotent: revoking
 * what is already revoked changes nothing and answers the same.
 */
@Injectable()
export class RevocationService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly cache: RevocationCacheService,
    private readonly bus: EventBusService,
    private readonly audit: AuditService,
    private readonly accessTokens: AccessTokensRepository,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  async revokeWhere(
    where: string,
    params: unknown[],
    reason: string,
    actor: string | null,
    manager: EntityManager = this.ds.manager,
  ): Promise<number> {
    // The UPDATE and the announcement commit together: if the event cannot be published the
    // revocation is rolled back and answered UNAVAILABLE, so nothing is acknowledged that the
    // other replicas will never hear of — and a retry finds the tokens still to revoke.
    if (!manager.queryRunner?.isTransactionActive)
      return this.ds.transaction((m) => this.revokeWhere(where, params, reason, actor, m));
    const tokens = await this.accessTokens.revokeWhere(where, params, manager);
    if (tokens.length === 0) return 0;
    await this.announceRevoked(tokens, reason, actor, manager);
    return tokens.length;
  }

  /**
   * Applies revoked ids here at once and publishes them to every other replica, chunked so a
   * mass revocation never exceeds NATS' message size limit. Also used for PATs and API keys,
   * whose ids take the place of token ids.
   */
  async announceRevoked(
    tokens: Array<{ tid: string; exp: number }>,
    reason: string,
    actor: string | null,
    manager: EntityManager = this.ds.manager,
  ): Promise<void> {
    if (tokens.length === 0) return;
    const at = new Date().toISOString();
    await this.audit.record(
      {
        type: 'token.revoked',
        actor,
        success: true,
        data: { reason, count: tokens.length, tids: tokens.slice(0, 50).map((t) => t.tid) },
      },
      manager,
    );
    for (let i = 0; i < tokens.length; i += EVENT_CHUNK) {
      await this.bus.publish(EVENTS.TOKEN_REVOKED, {
        tokens: tokens.slice(i, i + EVENT_CHUNK),
        reason,
        at,
      } satisfies TokenRevokedEvent);
    }
    // Here at once only once the others will hear of it (this replica follows the stream too).
    this.cache.applyRevoked({ tokens, reason, at });
  }

  /**
   * Marks a principal disabled (or enabled again) on every replica: validation refuses its
   * tokens from the moment the event lands, whatever the database says. A disable is announced
   * inside the transaction that makes it (as revocations are), so one the others cannot hear of is
   * rolled back rather than left done here and unknown there; an enable once that has committed.
   */
  async setPrincipalDisabled(kind: 'user' | 'client', id: string, disabled: boolean): Promise<void> {
    const event: PrincipalDisabledEvent = { kind, id, disabled, at: new Date().toISOString() };
    await this.bus.publish(EVENTS.PRINCIPAL_DISABLED, event);
    // Here at once only once the others will hear of it, as in announceRevoked.
    this.cache.applyDisabled(event);
  }

  async revokeTokens(tids: string[], reason: string, actor: string | null, manager?: EntityManager): Promise<number> {
    if (tids.length === 0) return 0;
    return this.revokeWhere('tid = ANY($1::uuid[])', [tids], reason, actor, manager);
  }

  /** A refresh family: every refresh token of it and every access token minted from it. */
  async revokeFamily(
    familyId: string,
    reason: string,
    actor: string | null,
    manager: EntityManager = this.ds.manager,
  ): Promise<number> {
    if (!manager.queryRunner?.isTransactionActive)
      return this.ds.transaction((m) => this.revokeFamily(familyId, reason, actor, m));
    await this.refreshTokens.revokeFamily(familyId, manager);
    return this.revokeWhere('family_id = $1', [familyId], reason, actor, manager);
  }
}
