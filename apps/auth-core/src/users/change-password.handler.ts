import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { ChangePasswordRequest, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ActorService } from '../tokens/actor.service';
import { assertStrongPassword } from './password-policy';
import { PasswordHasherService } from './password-hasher.service';
import { UserSessionsService } from './user-sessions.service';
import { UsersRepository } from './users.repository';

/** PUT /users/me/password: needs the current password; ends every other session. */
@Controller()
export class ChangePasswordHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
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
    if (!(await this.hasher.verify(user.passwordHash, req.currentPassword))) {
      await this.audit.record({ type: 'password.change_failed', actor: user.id, subject: user.id, success: false });
      throw new PortcullisError('FORBIDDEN', 'Current password is wrong');
    }
    if (req.newPassword === req.currentPassword) {
      throw new PortcullisError('BAD_REQUEST', 'The new password must differ from the current one', [
        { field: 'newPassword', errors: ['must differ from currentPassword'] },
      ]);
    }
    assertStrongPassword(req.newPassword, 'newPassword');
    const passwordHash = await this.hasher.hash(req.newPassword);
    return this.ds.transaction(async (m) => {
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
