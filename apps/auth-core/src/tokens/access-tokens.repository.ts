import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Page, TokenData } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, encodeCursor, isTimestamp, isUuid } from '../database/keyset-cursor';
import { updateReturning } from '../database/update-returning';
import { AccessTokenEntity } from './access-token.entity';

export interface TokenFilter {
  /** Tokens of this principal: its own (sub) and, for clients, those minted for it (cid). */
  ownerId?: string;
  ownerIsClient?: boolean;
  roles?: string[];
  excludeExpired?: boolean;
  clientIds?: string[];
}

const COLUMNS = `tid, sub, cid, rcid, typ, roles, revoked, created_at, expires_at`;

interface Row {
  tid: string;
  sub: string;
  cid: string;
  rcid: string;
  typ: string;
  roles: string[];
  revoked: boolean;
  created_at: Date;
  expires_at: Date;
}

export function toTokenData(r: Row | AccessTokenEntity): TokenData {
  const e = r as AccessTokenEntity & Row;
  return {
    tid: e.tid,
    cid: e.cid,
    rcid: e.rcid,
    r: e.roles,
    cts: new Date(e.createdAt ?? e.created_at).toISOString(),
    ets: new Date(e.expiresAt ?? e.expires_at).toISOString(),
    typ: e.typ,
    revoked: e.revoked,
    sub: e.sub,
  };
}

/** Keyset cursor over (created_at, tid): stable under inserts, no OFFSET scans. */
const TOKEN_KEY = [isTimestamp, isUuid];
const cursorAfter = (r: Row) => encodeCursor([r.created_at.toISOString(), r.tid]);

/** How long a deleted PAT or API key is kept at most, for deletes to be idempotent (a PostgreSQL interval). */
export const DELETED_CREDENTIALS_KEPT = '30 days';

@Injectable()
export class AccessTokensRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** SQL condition selecting the tokens owned by a principal. */
  static ownerCondition(ownerIsClient: boolean, param: string): string {
    return ownerIsClient ? `(sub = ${param} OR cid = ${param})` : `sub = ${param}`;
  }

  /**
   * The SQL conditions of a filter, its values bound through `p` (which returns the placeholder):
   * one definition for the listings and for revoking what a listing's filters select.
   */
  static filterConditions(filter: TokenFilter, p: (v: unknown) => string): string[] {
    const where: string[] = [];
    if (filter.ownerId !== undefined)
      where.push(AccessTokensRepository.ownerCondition(!!filter.ownerIsClient, p(filter.ownerId)));
    if (filter.roles?.length) where.push(`roles @> ${p(filter.roles)}::text[]`);
    if (filter.excludeExpired) where.push(`expires_at > now()`);
    if (filter.clientIds?.length) where.push(`cid = ANY(${p(filter.clientIds)}::text[])`);
    return where;
  }

  async list(filter: TokenFilter, limit = 50, cursor?: string): Promise<Page<TokenData>> {
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = AccessTokensRepository.filterConditions(filter, p);
    if (cursor) {
      const [ts, tid] = decodeCursor(cursor, TOKEN_KEY);
      where.push(`(created_at, tid) < (${p(ts)}::timestamptz, ${p(tid)}::uuid)`);
    }
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM access_tokens ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY created_at DESC, tid DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return { items: page.map(toTokenData), nextCursor: more ? cursorAfter(page[page.length - 1]) : null };
  }

  find(tid: string): Promise<AccessTokenEntity | null> {
    return this.ds.getRepository(AccessTokenEntity).findOne({ where: { tid } });
  }

  /**
   * Whether the token `tid` is on record and not revoked, its row shared until `manager`'s transaction
   * ends: a revocation under way is waited for (and then seen), one that comes later waits for this
   * transaction. One indexed row; never on the validation paths, which judge from memory.
   */
  async isLiveLocked(tid: string, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM access_tokens WHERE tid = $1 AND NOT revoked FOR SHARE`,
      [tid],
    );
    return rows.length > 0;
  }

  /**
   * Until `manager`'s transaction ends, no other transaction inserts, revokes or locks a token row
   * (plain reads go on); first waits for those under way. For a sweep that must reach every token
   * minted before it answers (DELETE /tokens/all): a row inserted while its UPDATE runs is not in
   * that statement's snapshot. Costs every mint (client_credentials too) a wait for as long as the
   * sweep lasts, and nothing when none runs. EXCLUSIVE rather than SHARE ROW EXCLUSIVE: a row a
   * write's caller holds shared (requireStillLive) would otherwise meet the sweep's UPDATE, which
   * waits for it, while that write waits for the table (a deadlock).
   */
  async lockAgainstWrites(manager: EntityManager): Promise<void> {
    await manager.query(`LOCK TABLE access_tokens IN EXCLUSIVE MODE`);
  }

  /** Records an issued token, in the caller's transaction. */
  async insert(row: AccessTokenEntity, manager: EntityManager): Promise<void> {
    await manager.insert(AccessTokenEntity, row);
  }

  /**
   * The revoked tokens validation must still refuse: past expiry plus a margin beyond any
   * CLOCK_SKEW (at most 300 s) and any drift between a replica's clock and PostgreSQL's, the same
   * 600 s after which a replica's memory forgets a revocation (libs/jwt RevocationState).
   */
  async revokedUnexpired(): Promise<Array<{ tid: string; exp: number }>> {
    const rows: Array<{ tid: string; exp: string }> = await this.ds.query(
      `SELECT tid, extract(epoch from expires_at)::bigint AS exp FROM access_tokens WHERE revoked AND expires_at > now() - interval '10 minutes'`,
    );
    return rows.map((r) => ({ tid: r.tid, exp: Number(r.exp) }));
  }

  /**
   * Marks revoked the tokens matching `where` (its values in `params`) that are not revoked yet
   * nor long expired; their ids and expiries (epoch seconds).
   */
  async revokeWhere(
    where: string,
    params: unknown[],
    manager: EntityManager,
  ): Promise<Array<{ tid: string; exp: number }>> {
    const rows = await updateReturning<{ tid: string; exp: string }>(
      manager,
      `UPDATE access_tokens SET revoked = true, revoked_at = now()
        WHERE NOT revoked AND expires_at > now() - interval '10 minutes' AND (${where})
        RETURNING tid, extract(epoch from expires_at)::bigint AS exp`,
      params,
    );
    return rows.map((r) => ({ tid: r.tid, exp: Number(r.exp) }));
  }

  /**
   * Deletes expired records in batches of `batch` rows, each its own short statement, so the
   * table is never locked for long. An access token's record stays twice `skewSeconds` (CLOCK_SKEW)
   * past its expiry on PostgreSQL's clock, as long as some replica may still accept the token: one
   * accepts it CLOCK_SKEW past `exp` on its own clock, which may run up to CLOCK_SKEW behind (the
   * bound the revocation load at start assumes too). A write the token makes meanwhile finds its
   * record (ActorService.requireStillLive), and the listings and GET /tokens/{tid} still know it.
   * Revoked tokens are kept a little longer: a replica starting now still loads them while clock
   * skew could let them pass. Refresh tokens and PATs are accepted only until their expiry, on
   * auth-core's own clock, and go then. Deleted PATs and API keys
   * (kept so deleting them again answers as the first delete did) go once they have expired, or
   * DELETED_CREDENTIALS_KEPT after their delete, so one that never expires does not stay for good;
   * a delete after that answers as for a value never issued (404).
   */
  async deleteExpired(
    skewSeconds: number,
    batch = 1000,
    manager: EntityManager = this.ds.manager,
  ): Promise<{ accessTokens: number; refreshTokens: number; deletedCredentials: number }> {
    const purge = async (table: string, key: string, where: string, params: unknown[] = []): Promise<number> => {
      let total = 0;
      for (;;) {
        const res = await manager.query(
          `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT $1 FOR UPDATE SKIP LOCKED)`,
          [batch, ...params],
        );
        const n = Number((res as [unknown, number])[1] ?? 0);
        total += n;
        if (n < batch) return total;
      }
    };
    const accessTokens = await purge(
      'access_tokens',
      'tid',
      `expires_at < now() - 2 * $2 * interval '1 second' AND (NOT revoked OR expires_at < now() - interval '10 minutes')`,
      [skewSeconds],
    );
    const refreshTokens = await purge('refresh_tokens', 'id', 'expires_at < now()');
    const deleted = `deleted_at IS NOT NULL AND (expires_at < now() OR deleted_at < now() - interval '${DELETED_CREDENTIALS_KEPT}')`;
    const deletedCredentials =
      (await purge('personal_access_tokens', 'id', deleted)) + (await purge('api_keys', 'id', deleted));
    return { accessTokens, refreshTokens, deletedCredentials };
  }
}
