import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { PatsRepository } from '../credentials/pats.repository';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { RevocationService } from '../tokens/revocation.service';

/** Ending a user's sessions and long-lived credentials, shared by every use case that must. */
@Injectable()
export class UserSessionsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly pats: PatsRepository,
  ) {}

  /**
   * Access and refresh tokens of the user, and the system tokens the user asked for (their subject
   * is a client: `user_id` names the user), optionally sparing the caller's own session. Nothing to
   * spare must spare nothing: `family_id IS DISTINCT FROM NULL` alone is false for the tokens that
   * have no family, which would outlive a revoke, a credentials removal or a disable.
   */
  async revokeSessions(
    userId: string,
    reason: string,
    actor: string,
    m: EntityManager,
    spare?: { tid?: string; family?: string },
  ): Promise<number> {
    await this.refreshTokens.revokeOfUser(userId, spare?.family ?? null, m);
    return this.revocation.revokeWhere(
      `(sub = $1 OR (typ = 'system' AND user_id = $1::uuid)) AND ($2::uuid IS NULL OR tid IS DISTINCT FROM $2::uuid)
        AND ($3::uuid IS NULL OR family_id IS DISTINCT FROM $3::uuid)`,
      [userId, spare?.tid ?? null, spare?.family ?? null],
      reason,
      actor,
      m,
    );
  }

  /**
   * The tokens minted from the user's PATs (POST /tokens, extended tokens: their family is the PAT's
   * id, token-lineage.ts). Those minted for the user itself are refused with the user and revoked by
   * revokeSessions; those minted for a client name the client, so a disable has to reach them here
   * or they would outlive it. The PATs themselves are only suspended (refused while the user is
   * disabled), as GitHub does with a suspended user's tokens.
   */
  async revokePatLineage(userId: string, reason: string, actor: string, m: EntityManager): Promise<number> {
    return this.revocation.revokeWhere(
      'family_id IN (SELECT id FROM personal_access_tokens WHERE user_id = $1::uuid)',
      [userId],
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
    const pats = await this.pats.softDeleteLive(where, m);
    await this.revocation.announceRevoked(
      pats.map((p) => ({ tid: p.id, exp: p.exp })),
      reason,
      actor,
      m,
    );
    // The tokens minted from them (POST /tokens, system tokens) carry their id as family (token-lineage.ts).
    if (pats.length)
      await this.revocation.revokeWhere('family_id = ANY($1::uuid[])', [pats.map((p) => p.id)], reason, actor, m);
    return pats;
  }
}
