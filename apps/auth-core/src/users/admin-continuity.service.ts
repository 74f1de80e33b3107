import { Injectable } from '@nestjs/common';
import { PortcullisError } from '@portcullis/contracts';
import { EntityManager } from 'typeorm';
import { UserEntity } from './user.entity';

/** Serialises every change that could take an administrator away (see AdminContinuityService). */
const ADMINS_LOCK_ID = 0x70636c04;

type AdminFields = Pick<UserEntity, 'enabled' | 'roles' | 'passwordHash' | 'source'>;

/**
 * A user who can administer Portcullis and get in to do it: enabled, holding `admin` (the one role
 * that is always every permission, so the only one that can grant `admin` back), and with a way to
 * sign in — a password, or an identity provider for a federated user.
 */
export const isAbleAdmin = (u: AdminFields): boolean =>
  u.enabled && u.roles.includes('admin') && (u.passwordHash !== null || u.source === 'oidc');

/**
 * Keeps at least one able administrator (isAbleAdmin) among the users. Disabling, deleting, demoting
 * or removing the password of the last one would leave nobody able to undo it through the API.
 *
 * Admin clients do not count: a client is deleted or disabled with no such guard, its secret is a
 * machine's, and neither Keycloak's nor GitHub's recovery paths rest on one; a human administrator
 * is what has to remain.
 *
 * Race-free: every transaction that may take an administrator away first takes one transaction-scoped
 * advisory lock, then reads the target and counts the others. Under READ COMMITTED each statement
 * after the lock sees what the previous holder committed, so two administrators disabling each other
 * at once cannot both pass. Revocations of other principals' tokens (POST /users/{id}/revoke,
 * DELETE /tokens/all) take it too: each also holds its caller's token row (ActorService.
 * requireStillLive), so two administrators revoking each other at once would deadlock. Sweeps that
 * do not take it (a client's disable or role change, a password change) queue behind DELETE
 * /tokens/all at the token table it holds against writes (AccessTokensRepository.lockAgainstWrites),
 * or, where they meet it the other way round, are run again (retryingTransaction).
 */
@Injectable()
export class AdminContinuityService {
  /** Call first in the transaction, before reading the user it changes. */
  async lock(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [ADMINS_LOCK_ID]);
  }

  /**
   * Refuses (409) turning `current` into `after` (null: deleting it) when `current` is the last able
   * administrator. `what` opens the message ("Disabling user x").
   */
  async requireAnotherAdmin(
    current: UserEntity,
    after: AdminFields | null,
    what: string,
    m: EntityManager,
  ): Promise<void> {
    if (!isAbleAdmin(current) || (after && isAbleAdmin(after))) return;
    const others: unknown[] = await m.query(
      `SELECT 1 FROM users WHERE enabled AND 'admin' = ANY(roles)
         AND (password_hash IS NOT NULL OR source = 'oidc') AND id <> $1::uuid LIMIT 1`,
      [current.id],
    );
    if (!others.length)
      throw new PortcullisError(
        'CONFLICT',
        `${what} would leave no enabled administrator able to sign in; make another user admin first`,
      );
  }
}
