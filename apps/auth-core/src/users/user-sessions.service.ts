import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RevocationService } from '../tokens/revocation.service';

/** Ending a user's sessions and long-lived credentials, shared by every use case that must. */
@Injectable()
export class UserSessionsService {
  constructor(private readonly revocation: RevocationService) {}

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
    const res: [Array<{ id: string; exp: string }>, number] = await m.query(
      `UPDATE personal_access_tokens SET deleted_at = now()
        WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) AND deleted_at IS NULL
        RETURNING id, extract(epoch from expires_at)::bigint AS exp`,
      [where.userId, where.id ?? null],
    );
    const rows = res[0];
    await this.revocation.announceRevoked(
      rows.map((r) => ({ tid: r.id, exp: Number(r.exp) })),
      reason,
      actor,
      m,
    );
    return rows.length;
  }
}
