import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { CountReply, PortcullisError, SUBJECTS, UserTargetRequest, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { retryingTransaction } from '../database/retrying-transaction';
import { Actor, ActorService, requireWithin } from '../tokens/actor.service';
import { AdminContinuityService } from './admin-continuity.service';
import { UserSessionsService } from './user-sessions.service';
import { UsersRepository } from './users.repository';

/**
 * `POST /users/{id}/revoke` ends every OAuth session (PATs stay); `DELETE /users/{id}/credentials`
 * also removes the password and every PAT, so the user cannot sign in until given a password.
 */
@Controller()
export class UserCredentialsHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly users: UsersRepository,
    private readonly sessions: UserSessionsService,
    private readonly audit: AuditService,
    private readonly admins: AdminContinuityService,
  ) {}

  @MessagePattern(SUBJECTS.USERS_REVOKE_TOKENS)
  async revoke(@Payload() payload: unknown): Promise<CountReply> {
    const { actor, userId, caller } = await this.target(payload);
    return retryingTransaction(this.ds, async (m) => {
      // Taken by every other change of one user by another, too: two administrators revoking each
      // other at once would otherwise each hold its own token's row (requireStillLive) and wait for
      // the other's (a deadlock, one of them a 500).
      await this.admins.lock(m);
      // The user's row first (TARGET_FIRST), as a change, delete or credentials removal of the user
      // takes it: a token the user's session is minting (ActorService.requireStillLive shares the
      // row) is waited for and revoked with the others, where the revoking statement alone did not
      // see it; one minted later finds its session revoked.
      if (!(await this.users.findByIdLocked(userId, m, 'pessimistic_write')))
        throw new PortcullisError('NOT_FOUND', 'User not found');
      await this.actors.requireStillLive(caller, m);
      const count = await this.sessions.revokeSessions(userId, 'user_tokens_revoked', actor, m);
      // token.revoked names no user, and is not written when nothing was live: this one says who.
      await this.audit.record(
        { type: 'user.tokens_revoked', actor, subject: userId, success: true, data: { count } },
        m,
      );
      return { count };
    });
  }

  @MessagePattern(SUBJECTS.USERS_REMOVE_CREDENTIALS)
  async removeCredentials(@Payload() payload: unknown): Promise<{ revokedTokens: number; deletedPats: number }> {
    const { actor, userId, self, caller } = await this.target(payload);
    // Like deleting yourself: without a password or a token left, nobody could sign in as you again.
    if (self) throw new PortcullisError('CONFLICT', 'You cannot remove your own credentials');
    return retryingTransaction(this.ds, async (m) => {
      await this.admins.lock(m);
      // Read again under the lock, the user's row before the caller's (TARGET_FIRST): what target()
      // saw may have changed since.
      const user = await this.users.findByIdLocked(userId, m, 'pessimistic_write');
      await this.actors.requireStillLive(caller, m);
      if (!user) throw new PortcullisError('NOT_FOUND', 'User not found');
      await this.admins.requireAnotherAdmin(
        user,
        { ...user, passwordHash: null },
        `Removing the credentials of user ${userId}`,
        m,
      );
      await this.users.update(userId, { passwordHash: null, failedLogins: 0, lockedUntil: null }, m);
      const revokedTokens = await this.sessions.revokeSessions(userId, 'credentials_removed', actor, m);
      const deletedPats = await this.sessions.deletePats({ userId }, 'credentials_removed', actor, m);
      await this.audit.record(
        {
          type: 'user.credentials_removed',
          actor,
          subject: userId,
          success: true,
          data: { revokedTokens, deletedPats },
        },
        m,
      );
      return { revokedTokens, deletedPats };
    });
  }

  private async target(payload: unknown): Promise<{ actor: string; userId: string; self: boolean; caller: Actor }> {
    const req = validatePayload(UserTargetRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'users:write');
    if (!req.userId)
      throw new PortcullisError('BAD_REQUEST', 'userId is required', [
        { field: 'userId', errors: ['userId is required'] },
      ]);
    const user = await this.users.findById(req.userId);
    if (!user) throw new PortcullisError('NOT_FOUND', 'User not found');
    requireWithin(actor, user.roles, `Changing user ${req.userId}`, user.tenants);
    return {
      actor: actor.claims.sub,
      userId: req.userId,
      self: actor.isUser && req.userId === actor.principalId,
      caller: actor,
    };
  }
}
