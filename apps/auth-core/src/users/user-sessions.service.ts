import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { RevocationService } from '../tokens/revocation.service';

/** Ending a user's sessions and long-lived credentials, shared by every use case that must. */
@Injectable()
export class UserSessionsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Access and refresh tokens of the user, optionally sparing the caller's own session. Nothing to
   * spare must spare nothing: `family_id IS DISTINCT FROM NULL` alone is false for the tokens that
   * have no family (POST /tokens), which would outlive a revoke, a credentials removal or a disable.
   */
  async revokeSessions(
    userId: string,
    reason: string,
    actor: string,
    m: EntityManager,
    spare?: { tid?: string; family?: string },
  ): Promise<number> {
    await m.query(
      `UPDATE refresh_tokens SET revoked = true
        WHERE user_id = $1 AND NOT revoked AND ($2::uuid IS NULL OR family_id IS DISTINCT FROM $2::uuid)`,
      [userId, spare?.family ?? null],
    );
    return this.revocation.revokeWhere(
      `sub = $1 AND ($2::uuid IS NULL OR tid IS DISTINCT FROM $2::uuid)
        AND ($3::uuid IS NULL OR family_id IS DISTINCT FROM $3::uuid)`,
      [userId, spare?.tid ?? null, spare?.family ?? null],
      reason,
      actor,
      m,
    );
  }

  /**
   * Deletes PATs (marks them deleted: see the DeletedCredentials migration) and tells every replica
   * they are dead (their ids act as token ids). Returns how many were live.
   */
  async deletePats(
    where: { userId: string; id?: string },
    reason: string,
    actor: string,
    m: EntityManager,
  ): Promise<number> {
    return (await this.markPatsDeleted(where, reason, actor, m)).length;
  }

  /**
   * One PAT of the user, deleted and audited (`pat.deleted`) in one transaction: DELETE
   * /users/{id}/tokens/{tokenOrName} and logout with a PAT. False when it was no longer live: a
   * delete running beside this one got there first, and recorded it.
   */
  async deletePat(userId: string, id: string, reason: string, actor: string): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const [pat] = await this.markPatsDeleted({ userId, id }, reason, actor, m);
      if (!pat) return false;
      await this.audit.record(
        { type: 'pat.deleted', actor, subject: userId, success: true, data: { id, name: pat.name } },
        m,
      );
      return true;
    });
  }

  private async markPatsDeleted(
    where: { userId: string; id?: string },
    reason: string,
    actor: string,
    m: EntityManager,
  ): Promise<Array<{ id: string; name: string }>> {
    const res: [Array<{ id: string; name: string; exp: string }>, number] = await m.query(
      `UPDATE personal_access_tokens SET deleted_at = now()
        WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) AND deleted_at IS NULL
        RETURNING id, name, extract(epoch from expires_at)::bigint AS exp`,
      [where.userId, where.id ?? null],
    );
    const rows = res[0];
    await this.revocation.announceRevoked(
      rows.map((r) => ({ tid: r.id, exp: Number(r.exp) })),
      reason,
      actor,
      m,
    );
    return rows;
  }
}
