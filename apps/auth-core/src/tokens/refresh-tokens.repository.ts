import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { MasterKey } from '../keys/master-key';
import { RefreshTokenEntity } from './refresh-token.entity';

/**
 * Runs a revoking UPDATE until it finds nothing left. A refresh that claimed one of the rows
 * (refresh-token.handler.ts) makes the statement wait until it commits, and the token that refresh
 * inserted is not in that statement's snapshot: it would outlive the revocation. A statement that
 * revoked nothing waited on no row, so nothing can have slipped past it.
 */
async function revokeRows(manager: EntityManager, sql: string, params: unknown[]): Promise<void> {
  for (;;) {
    // TypeORM's postgres driver answers an UPDATE with [rows, rowCount].
    const [, revoked] = (await manager.query(sql, params)) as [unknown[], number];
    if (!revoked) return;
  }
}

@Injectable()
export class RefreshTokensRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly masterKey: MasterKey,
  ) {}

  /** A refresh token that can still be used: not rotated, not revoked, not expired. */
  findActive(token: string): Promise<RefreshTokenEntity | null> {
    return this.ds.getRepository(RefreshTokenEntity).findOne({
      where: {
        tokenHash: this.masterKey.hashSecret(token),
        usedAt: IsNull(),
        revoked: false,
        expiresAt: MoreThan(new Date()),
      },
    });
  }

  /** A refresh token as recorded, whatever its state (rotated, revoked, expired), or null. */
  findByToken(token: string): Promise<RefreshTokenEntity | null> {
    return this.ds
      .getRepository(RefreshTokenEntity)
      .findOne({ where: { tokenHash: this.masterKey.hashSecret(token) } });
  }

  /** Records a new refresh token (its hash), in the caller's transaction. */
  async insert(row: RefreshTokenEntity, manager: EntityManager): Promise<void> {
    await manager.insert(RefreshTokenEntity, row);
  }

  /** Revokes every refresh token of a family. */
  async revokeFamily(familyId: string, manager: EntityManager): Promise<void> {
    await revokeRows(manager, `UPDATE refresh_tokens SET revoked = true WHERE family_id = $1 AND NOT revoked`, [
      familyId,
    ]);
  }

  /** Revokes every refresh token minted for a client (its cid). */
  async revokeOfClient(cid: string, manager: EntityManager): Promise<void> {
    await revokeRows(manager, `UPDATE refresh_tokens SET revoked = true WHERE cid = $1 AND NOT revoked`, [cid]);
  }

  /**
   * Revokes every refresh token of a user but those of `spareFamily`. Null spares nothing:
   * `family_id IS DISTINCT FROM NULL` alone would spare every token that has no family.
   */
  async revokeOfUser(userId: string, spareFamily: string | null, manager: EntityManager): Promise<void> {
    await revokeRows(
      manager,
      `UPDATE refresh_tokens SET revoked = true
        WHERE user_id = $1 AND NOT revoked AND ($2::uuid IS NULL OR family_id IS DISTINCT FROM $2::uuid)`,
      [userId, spareFamily],
    );
  }

  /**
   * Revokes every refresh token but those of `keepFamily`; given an access-token condition (its
   * values in `params`), only those of the families of the access tokens it selects.
   */
  async revokeAllBut(
    keepFamily: string | null,
    manager: EntityManager,
    selected?: { where: string; params: unknown[] },
  ): Promise<void> {
    const params = selected?.params ?? [];
    const families = selected
      ? `AND family_id IN (SELECT family_id FROM access_tokens WHERE family_id IS NOT NULL AND ${selected.where})`
      : '';
    await revokeRows(
      manager,
      `UPDATE refresh_tokens SET revoked = true
          WHERE NOT revoked AND family_id IS DISTINCT FROM $${params.length + 1}::uuid ${families}`,
      [...params, keepFamily],
    );
  }
}
