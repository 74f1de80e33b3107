import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Page } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { newestFirstPage } from '../database/keyset-cursor';
import { insertUnlessTaken } from '../database/insert-unless-taken';
import { updateReturning } from '../database/update-returning';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';

export type NewPat = Omit<PersonalAccessTokenEntity, 'id' | 'deletedAt'>;

/** A live PAT as validation needs it, with what its owner holds now. */
export interface LivePat {
  id: string;
  userId: string;
  permissions: string[];
  tenants: string[];
  expiresAt: Date;
  createdAt: Date;
  ownerRoles: string[];
  ownerTenants: string[];
}

/** Persistence of personal access tokens; entities stay inside auth-core. */
@Injectable()
export class PatsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * The new PAT, or null when its owner already holds a live one of that name. Run it in the
   * transaction that audits the creation, so neither is written without the other.
   */
  insertNamed(pat: NewPat, manager: EntityManager): Promise<PersonalAccessTokenEntity | null> {
    return insertUnlessTaken(manager, PersonalAccessTokenEntity, pat);
  }

  /** One user's PATs, newest first, keyset-paged on (created_at, id) like the token listings. */
  async list(userId: string, limit: number, cursor?: string): Promise<Page<PersonalAccessTokenEntity>> {
    const qb = this.ds
      .getRepository(PersonalAccessTokenEntity)
      .createQueryBuilder('p')
      .where('p.user_id = :userId', { userId });
    return newestFirstPage(qb, limit, cursor);
  }

  /** The user's PAT with this value's hash, deleted or not. */
  findByHash(userId: string, tokenHash: Buffer): Promise<PersonalAccessTokenEntity | null> {
    return this.ds
      .getRepository(PersonalAccessTokenEntity)
      .findOne({ where: { userId, tokenHash }, withDeleted: true });
  }

  /** The user's live PAT of that name, else the one of that name deleted last. */
  findByName(userId: string, name: string): Promise<PersonalAccessTokenEntity | null> {
    return this.ds.getRepository(PersonalAccessTokenEntity).findOne({
      where: { userId, name },
      withDeleted: true,
      order: { deletedAt: { direction: 'DESC', nulls: 'FIRST' } },
    });
  }

  /** The live PAT with this value's hash, joined to its owner. */
  async findLiveWithOwner(tokenHash: Buffer): Promise<LivePat | null> {
    const [row] = (await this.ds.query(
      `SELECT p.id, p.user_id, p.permissions, p.tenants, p.expires_at, p.created_at, u.roles,
              u.tenants AS owner_tenants
         FROM personal_access_tokens p JOIN users u ON u.id = p.user_id
        WHERE p.token_hash = $1 AND p.deleted_at IS NULL`,
      [tokenHash],
    )) as Array<{
      id: string;
      user_id: string;
      permissions: string[];
      tenants: string[];
      expires_at: Date;
      created_at: Date;
      roles: string[];
      owner_tenants: string[];
    }>;
    if (!row) return null;
    return {
      id: row.id,
      userId: row.user_id,
      permissions: row.permissions,
      tenants: row.tenants,
      expiresAt: row.expires_at,
      createdAt: row.created_at,
      ownerRoles: row.roles,
      ownerTenants: row.owner_tenants,
    };
  }

  /**
   * Whether the PAT `id` is live (not deleted, not expired), its row shared until `manager`'s
   * transaction ends, as AccessTokensRepository.isLiveLocked does for a JWT.
   */
  async isLiveLocked(id: string, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM personal_access_tokens WHERE id = $1 AND deleted_at IS NULL AND expires_at > now() FOR SHARE`,
      [id],
    );
    return rows.length > 0;
  }

  /**
   * Whether the PAT `id` is not deleted, its row shared until `manager`'s transaction ends; undefined
   * when no PAT has this id. For the tokens minted from it, whose line it is (lineageOf): deleting
   * the PAT marks its row before revoking them. Its expiry is theirs already (capped at minting).
   */
  async lineLiveLocked(id: string, manager: EntityManager): Promise<boolean | undefined> {
    const [row] = (await manager.query(
      `SELECT deleted_at IS NULL AS live FROM personal_access_tokens WHERE id = $1 FOR SHARE`,
      [id],
    )) as Array<{ live: boolean }>;
    return row?.live;
  }

  /** The PAT with this value's hash, whoever owns it, deleted or not (logout with a PAT ended before). */
  findAnyByHash(tokenHash: Buffer): Promise<PersonalAccessTokenEntity | null> {
    return this.ds.getRepository(PersonalAccessTokenEntity).findOne({ where: { tokenHash }, withDeleted: true });
  }

  /** Records a use of a PAT from `ip`: whether that address is new to it, and its last address before. */
  async addAddress(patId: string, ip: string): Promise<{ added: boolean; previous: string | null }> {
    // The SELECT sees the table as it was before this INSERT: `previous` is the last address before this one.
    const [row] = (await this.ds.query(
      `WITH added AS (INSERT INTO pat_addresses (pat_id, ip) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ip)
       SELECT EXISTS (SELECT 1 FROM added) AS added,
              (SELECT ip FROM pat_addresses WHERE pat_id = $1 ORDER BY first_seen_at DESC LIMIT 1) AS previous`,
      [patId, ip],
    )) as Array<{ added: boolean; previous: string | null }>;
    return row;
  }

  /** Sets when each PAT was last used, from (id, epoch milliseconds) pairs, in one statement. */
  async setLastUsed(uses: Array<[string, number]>): Promise<void> {
    await this.ds.query(
      `UPDATE personal_access_tokens p SET last_used_at = to_timestamp(u.ts / 1000.0)
         FROM unnest($1::uuid[], $2::bigint[]) AS u(id, ts) WHERE p.id = u.id`,
      [uses.map(([id]) => id), uses.map(([, ts]) => ts)],
    );
  }

  /** Marks deleted the user's live PATs, or only the one with `id`; those it marked (`exp` in epoch seconds). */
  async softDeleteLive(
    where: { userId: string; id?: string },
    manager: EntityManager,
  ): Promise<Array<{ id: string; name: string; exp: number }>> {
    const rows = await updateReturning<{ id: string; name: string; exp: string }>(
      manager,
      `UPDATE personal_access_tokens SET deleted_at = now()
        WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) AND deleted_at IS NULL
        RETURNING id, name, extract(epoch from expires_at)::bigint AS exp`,
      [where.userId, where.id ?? null],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, exp: Number(r.exp) }));
  }
}
