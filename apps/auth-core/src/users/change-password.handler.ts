import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { ChangePasswordRequest, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig, lockoutPolicy } from '../config/config';
import { retryingTransaction } from '../database/retrying-transaction';
import { ActorService } from '../tokens/actor.service';
import { assertStrongPassword } from './password-policy';
import { PasswordHasherService } from './password-hasher.service';
import { assertMayHavePassword } from './user-access';
import { UserSessionsService } from './user-sessions.service';
import { UsersRepository } from './users.repository';

/** PUT /users/me/password: needs the current password; ends every other session. */
@Controller()
export class ChangePasswordHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasherService,
    private readonly sessions: UserSessionsService,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.USERS_CHANGE_PASSWORD)
  async handle(@Payload() payload: unknown): Promise<{ revokedSessions: number }> {
    const req = validatePayload(ChangePasswordRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    if (!actor.isUser || actor.claims.typ !== 'user')
      throw new PortcullisError('FORBIDDEN', 'Only a signed-in user can change their password');
    const user = await this.users.findById(actor.principalId);
    if (!user) throw new PortcullisError('UNAUTHENTICATED', 'User no longer exists');
    assertMayHavePassword(user);
    // A stolen access token must not be an unlimited password oracle: a wrong current password
    // counts as a failed login (towards the lockout), and a locked account is refused the same way.
    const correct = await this.hasher.verify(user.passwordHash, req.currentPassword);
    const locked = !!user.lockedUntil && user.lockedUntil.getTime() > Date.now();
    if (!correct || locked) {
      await this.ds.transaction(async (m) => {
        // Not during a lockout, as at login: the lock ends when it said.
        if (!correct && !locked) await this.users.recordFailedLogin(user.id, lockoutPolicy(this.config), m);
        const reason = correct ? 'locked' : 'bad_password';
        await this.audit.record(
          { type: 'password.change_failed', actor: user.id, subject: user.id, success: false, data: { reason } },
          m,
        );
      });
      throw new PortcullisError('REFUSED', 'Current password is wrong');
    }
    // Compared as they are hashed (NFC): the same password in another Unicode form is the same password.
    if (req.newPassword.normalize('NFC') === req.currentPassword.normalize('NFC')) {
      throw new PortcullisError('BAD_REQUEST', 'The new password must differ from the current one', [
        { field: 'newPassword', errors: ['must differ from currentPassword'] },
      ]);
    }
    assertStrongPassword(req.newPassword, 'newPassword', user.username);
    const passwordHash = await this.hasher.hash(req.newPassword);
    return retryingTransaction(this.ds, async (m) => {
      // The user's row taken for the update below: two changes at once queue rather than deadlock.
      await this.actors.requireStillLive(actor, m, 'pessimistic_write');
      await this.users.update(
        user.id,
        { passwordHash, passwordChangedAt: new Date(), failedLogins: 0, lockedUntil: null },
        m,
      );
      const revokedSessions = await this.sessions.revokeSessions(user.id, 'password_changed', user.id, m, {
        tid: actor.claims.jti,
        family: actor.claims.fam,
      });
      await this.audit.record(
        { type: 'password.changed', actor: user.id, subject: user.id, success: true, data: { revokedSessions } },
        m,
      );
      return { revokedSessions };
    });
  }
}
