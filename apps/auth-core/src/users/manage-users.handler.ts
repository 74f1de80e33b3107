import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CreateUserRequest,
  ListUsersRequest,
  Page,
  PortcullisError,
  SUBJECTS,
  UpdateUserRequest,
  UserTargetRequest,
  UserView,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ActorService, can, requireWithin } from '../tokens/actor.service';
import { RevocationService } from '../tokens/revocation.service';
import { AdminContinuityService } from './admin-continuity.service';
import { assertStrongPassword } from './password-policy';
import { PasswordHasherService } from './password-hasher.service';
import { assertMayHavePassword } from './user-access';
import { UserEntity } from './user.entity';
import { toUserView } from './user-view';
import { UserSessionsService } from './user-sessions.service';
import { UsersRepository } from './users.repository';

/** Users administration: create, list, read, update (incl. enable/disable), delete. */
@Controller()
export class ManageUsersHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasherService,
    private readonly sessions: UserSessionsService,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly admins: AdminContinuityService,
  ) {}

  @MessagePattern(SUBJECTS.USERS_CREATE)
  async create(@Payload() payload: unknown): Promise<UserView> {
    const req = validatePayload(CreateUserRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'users:write');
    const roles = req.roles ?? ['user'];
    requireWithin(actor, roles, `Granting roles ${roles.join(', ')}`);
    if (req.tenants) requireWithin(actor, [], `Granting tenants ${req.tenants.join(', ')}`, req.tenants);
    if (req.password) assertStrongPassword(req.password, 'password', req.username);
    const passwordHash = req.password ? await this.hasher.hash(req.password) : null;
    return this.ds.transaction(async (m) => {
      await this.actors.requireStillLive(actor, m);
      if (await this.users.findByUsername(req.username, m))
        throw new PortcullisError('CONFLICT', `User ${req.username} already exists`);
      const user = await this.users.create(
        {
          username: req.username,
          passwordHash,
          roles,
          tenants: req.tenants ?? [],
          enabled: req.enabled ?? true,
          passwordChangedAt: null,
        },
        m,
      );
      await this.audit.record(
        {
          type: 'user.created',
          actor: actor.claims.sub,
          subject: user.id,
          success: true,
          data: { username: user.username, roles: user.roles },
        },
        m,
      );
      // Validation knows disabled users from memory only (PATs included): one created disabled is
      // announced as one disabled later is, or a PAT made for it would be accepted until a restart.
      if (!user.enabled) await this.revocation.setPrincipalDisabled('user', user.id, true);
      return toUserView(user);
    });
  }

  @MessagePattern(SUBJECTS.USERS_LIST)
  async list(@Payload() payload: unknown): Promise<Page<UserView>> {
    const req = validatePayload(ListUsersRequest, payload);
    await this.actors.authenticate(req.auth, 'users:read');
    const page = await this.users.list(req.limit, req.cursor, {
      username: req.username,
      roles: req.roles,
      enabled: req.enabled,
    });
    return { items: page.items.map(toUserView), nextCursor: page.nextCursor };
  }

  @MessagePattern(SUBJECTS.USERS_GET)
  async get(@Payload() payload: unknown): Promise<UserView> {
    const req = validatePayload(UserTargetRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    const id = req.userId ?? actor.principalId;
    const self = actor.isUser && id === actor.principalId;
    if (!self && !can(actor, 'users:read')) throw new PortcullisError('NOT_FOUND', 'User not found');
    const user = await this.users.findById(id);
    if (!user) throw new PortcullisError('NOT_FOUND', 'User not found');
    return toUserView(user);
  }

  @MessagePattern(SUBJECTS.USERS_UPDATE)
  async update(@Payload() payload: unknown): Promise<UserView> {
    const req = validatePayload(UpdateUserRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'users:write');
    if (req.roles) requireWithin(actor, req.roles, `Granting roles ${req.roles.join(', ')}`);
    if (req.tenants) requireWithin(actor, [], `Granting tenants ${req.tenants.join(', ')}`, req.tenants);
    if (req.password) assertStrongPassword(req.password, 'password');
    const passwordHash = req.password ? await this.hasher.hash(req.password) : undefined;
    const user = await this.ds.transaction(async (m) => {
      await this.admins.lock(m);
      // The user's row before the caller's (TARGET_FIRST): it is updated below, oneself included.
      const current = await this.users.findByIdLocked(req.userId, m, 'pessimistic_write');
      await this.actors.requireStillLive(actor, m);
      if (!current) throw new PortcullisError('NOT_FOUND', 'User not found');
      // A password reset or a disable would otherwise hand a users:write holder an administrator.
      requireWithin(actor, current.roles, `Changing user ${req.userId}`, current.tenants);
      if (passwordHash) assertMayHavePassword(current);
      // Judged once the caller may change this user: earlier, a 400 would confirm a guessed username.
      if (req.password) assertStrongPassword(req.password, 'password', current.username);
      const self = actor.isUser && req.userId === actor.principalId;
      // Like deleting yourself: an administrator who disabled or demoted themselves could leave
      // nobody able to undo it through the API.
      if (self) {
        if (req.enabled === false) throw new PortcullisError('CONFLICT', 'You cannot disable yourself');
        if (req.roles && current.roles.includes('admin') && !req.roles.includes('admin'))
          throw new PortcullisError('CONFLICT', 'You cannot remove your own admin role');
      }
      const changes: Partial<UserEntity> = {};
      if (req.roles) changes.roles = req.roles;
      if (req.tenants) changes.tenants = req.tenants;
      if (req.enabled !== undefined) changes.enabled = req.enabled;
      // Keycloak's unlock: enabling a user, again or not, forgets its failed logins and lifts a
      // lockout, so letting its owner back in needs no reset of a password nobody forgot.
      const unlocked = req.enabled === true && (current.failedLogins > 0 || current.lockedUntil !== null);
      if (unlocked) Object.assign(changes, { failedLogins: 0, lockedUntil: null });
      // A password an administrator sets for someone else is not one the user chose (Keycloak's
      // temporary password): passwordWasNeverChanged again, whatever the user had chosen before.
      // Setting one's own is choosing it.
      if (passwordHash)
        Object.assign(changes, {
          passwordHash,
          passwordChangedAt: self ? new Date() : null,
          failedLogins: 0,
          lockedUntil: null,
        });
      await this.admins.requireAnotherAdmin(
        current,
        { ...current, ...changes },
        `${req.enabled === false ? 'Disabling' : 'Changing'} user ${req.userId}`,
        m,
      );
      const updated = await this.users.update(req.userId, changes, m);
      if (req.enabled === false) {
        await this.sessions.revokeSessions(req.userId, 'user_disabled', actor.claims.sub, m);
        await this.sessions.revokePatLineage(req.userId, 'user_disabled', actor.claims.sub, m);
        await this.revocation.setPrincipalDisabled('user', req.userId, true);
      } else if (req.enabled === true && !current.enabled) {
        // Every token the user holds now predates this enable: one minted (POST /tokens, a system or
        // extended token) by a request authenticated just before the disable was announced was
        // written after the disable's revocation, and only the disabled state kept it out. Revoked
        // (and announced) here, before that state is lifted. The PATs stay: they were suspended. A
        // password set in the same request needs no revocation of its own: this one is wider.
        await this.sessions.revokeSessions(req.userId, 'user_disabled', actor.claims.sub, m);
        await this.sessions.revokePatLineage(req.userId, 'user_disabled', actor.claims.sub, m);
      }
      // A reset is what an administrator does after a compromise: the sessions the old password
      // opened end with it (the administrator's own, resetting themselves, is spared).
      else if (passwordHash) {
        await this.sessions.revokeSessions(
          req.userId,
          'password_reset',
          actor.claims.sub,
          m,
          self ? { tid: actor.claims.jti, family: actor.claims.fam } : undefined,
        );
      }
      await this.audit.record(
        {
          type: 'user.updated',
          actor: actor.claims.sub,
          subject: req.userId,
          success: true,
          // The fields the request changed, by their API names (a password reset also clears the lockout).
          data: {
            fields: [
              ...Object.keys(changes).filter(
                (k) => !['passwordHash', 'passwordChangedAt', 'failedLogins', 'lockedUntil'].includes(k),
              ),
              ...(passwordHash ? ['password'] : []),
            ],
            ...(unlocked ? { unlocked: true } : {}),
          },
        },
        m,
      );
      return updated;
    });
    if (req.enabled === true) await this.revocation.setPrincipalDisabled('user', req.userId, false);
    return toUserView(user);
  }

  @MessagePattern(SUBJECTS.USERS_DELETE)
  async delete(@Payload() payload: unknown): Promise<{ deleted: true }> {
    const req = validatePayload(UserTargetRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'users:write');
    if (!req.userId)
      throw new PortcullisError('BAD_REQUEST', 'userId is required', [
        { field: 'userId', errors: ['userId is required'] },
      ]);
    if (actor.isUser && req.userId === actor.principalId)
      throw new PortcullisError('CONFLICT', 'You cannot delete yourself');
    await this.ds.transaction(async (m) => {
      await this.admins.lock(m);
      // The user's row first, before the caller's (TARGET_FIRST) and before its tokens and PATs: a
      // PAT being created for the user (which shares the row) is waited for, or waits and finds no user.
      const user = await this.users.findByIdLocked(req.userId!, m, 'pessimistic_write');
      await this.actors.requireStillLive(actor, m);
      if (!user) throw new PortcullisError('NOT_FOUND', 'User not found');
      requireWithin(actor, user.roles, `Deleting user ${req.userId}`, user.tenants);
      await this.admins.requireAnotherAdmin(user, null, `Deleting user ${req.userId}`, m);
      await this.sessions.revokeSessions(req.userId!, 'user_deleted', actor.claims.sub, m);
      await this.sessions.deletePats({ userId: req.userId! }, 'user_deleted', actor.claims.sub, m);
      await this.users.delete(req.userId!, m);
      await this.audit.record(
        { type: 'user.deleted', actor: actor.claims.sub, subject: req.userId!, success: true },
        m,
      );
      await this.revocation.setPrincipalDisabled('user', req.userId!, true);
    });
    return { deleted: true };
  }
}
