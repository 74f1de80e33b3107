import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CreatedPat,
  CreatePatRequest,
  DeletePatRequest,
  generateCredential,
  ListPatsRequest,
  Page,
  PAT_PREFIX,
  PatView,
  permissionsOf,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { ActorService, requireSession, requireWithin } from '../tokens/actor.service';
import { targetUserId } from '../users/user-access';
import { UserSessionsService } from '../users/user-sessions.service';
import { UsersRepository } from '../users/users.repository';
import { PersonalAccessTokenEntity } from './personal-access-token.entity';
import { PatsRepository } from './pats.repository';

const toView = (p: PersonalAccessTokenEntity): PatView => ({
  id: p.id,
  name: p.name,
  expiresAt: p.expiresAt.toISOString(),
  createdAt: p.createdAt.toISOString(),
  lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
  permissions: p.permissions,
  tenants: p.tenants,
});

/** A PAT's lifetime when the caller names none (GitHub's default). */
const DEFAULT_PAT_TTL_MS = 30 * 86400_000;

/** Personal access tokens: create (value shown once), list (never the value), delete by value or name. */
@Controller()
export class PatsHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly users: UsersRepository,
    private readonly masterKey: MasterKey,
    private readonly sessions: UserSessionsService,
    private readonly audit: AuditService,
    private readonly pats: PatsRepository,
  ) {}

  @MessagePattern(SUBJECTS.PATS_CREATE)
  async create(@Payload() payload: unknown): Promise<CreatedPat> {
    const req = validatePayload(CreatePatRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    const userId = targetUserId(actor, req.userId);
    const self = userId === actor.principalId;
    if (self) requireSession(actor, 'create personal access tokens');
    const owner = await this.users.findById(userId);
    if (!owner) throw new PortcullisError('NOT_FOUND', 'User not found');
    if (!self) requireWithin(actor, owner.roles, `Creating a token of user ${userId}`, owner.tenants);

    const maxMs = this.config.PAT_MAX_TTL_DAYS * 86400_000;
    const expiresAt = req.expiresAt
      ? new Date(req.expiresAt)
      : new Date(Date.now() + Math.min(maxMs, DEFAULT_PAT_TTL_MS));
    if (expiresAt.getTime() <= Date.now()) throw this.badExpiry('expiresAt must be in the future');
    if (expiresAt.getTime() > Date.now() + maxMs)
      throw this.badExpiry(`expiresAt must be within ${this.config.PAT_MAX_TTL_DAYS} days`);
    const owned = permissionsOf(owner.roles);
    // A session narrowed to some roles (POST /tokens) makes no PAT wider than itself.
    const held = owned.filter((p) => !self || actor.permissions.includes(p));
    const permissions = req.permissions ?? held;
    const tenants = req.tenants ?? owner.tenants;
    // What the owner lacks is refused to any caller (REFUSED: no insufficient_scope); what only the
    // caller's narrowed session lacks, a wider session of the owner would be given (FORBIDDEN).
    const notOwned = permissions.filter((p) => !owned.includes(p));
    const tooWide = notOwned.length ? notOwned : permissions.filter((p) => !held.includes(p));
    if (tooWide.length)
      throw new PortcullisError(
        notOwned.length ? 'REFUSED' : 'FORBIDDEN',
        `Permissions not held by the owner: ${tooWide.join(', ')}`,
      );
    const foreign = owner.tenants.includes('*') ? [] : tenants.filter((t) => !owner.tenants.includes(t));
    if (foreign.length) throw new PortcullisError('REFUSED', `Tenants not held by the owner: ${foreign.join(', ')}`);

    const token = generateCredential(PAT_PREFIX);
    return this.ds.transaction(async (m) => {
      await this.actors.requireStillLive(actor, m);
      // The owner's row, shared, before the PAT that references it: a delete of the user that ran
      // meanwhile is waited for and the user is not found (404), where the insert alone failed on
      // the foreign key (500); a delete that comes later waits for this PAT and removes it too.
      if (!(await this.users.findByIdLocked(userId, m, 'pessimistic_read')))
        throw new PortcullisError('NOT_FOUND', 'User not found');
      const pat = await this.pats.insertNamed(
        {
          userId,
          name: req.name,
          tokenHash: this.masterKey.hashSecret(token),
          permissions: [...new Set(permissions)],
          tenants: [...new Set(tenants)],
          expiresAt,
          createdAt: new Date(),
          lastUsedAt: null,
        },
        m,
      );
      if (!pat) throw new PortcullisError('CONFLICT', `A token named "${req.name}" already exists`);
      await this.audit.record(
        {
          type: 'pat.created',
          actor: actor.claims.sub,
          subject: userId,
          success: true,
          data: { id: pat.id, name: pat.name },
        },
        m,
      );
      return { ...toView(pat), token };
    });
  }

  /** Newest first, keyset-paged on (created_at, id) like the token listings. */
  @MessagePattern(SUBJECTS.PATS_LIST)
  async list(@Payload() payload: unknown): Promise<Page<PatView>> {
    const req = validatePayload(ListPatsRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    const userId = targetUserId(actor, req.userId);
    if (!(await this.users.findById(userId))) throw new PortcullisError('NOT_FOUND', 'User not found');
    const page = await this.pats.list(userId, req.limit ?? 50, req.cursor);
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  }

  /**
   * By value or by name, only among the tokens of the user in the path (me or {id}): someone
   * else's token is not found, like one never issued, so its owner is the one audited and a value
   * tells nothing about who holds it. A leaked token can still be killed by whoever holds it, with
   * itself as the bearer. Deleting a deleted token again answers the same and changes nothing
   * (revocation is idempotent); only a value or name never issued (to that user) is not found.
   */
  @MessagePattern(SUBJECTS.PATS_DELETE)
  async delete(@Payload() payload: unknown): Promise<{ deleted: true }> {
    const req = validatePayload(DeletePatRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    const userId = targetUserId(actor, req.userId);
    if (userId !== actor.principalId) {
      const owner = await this.users.findById(userId);
      if (!owner) throw new PortcullisError('NOT_FOUND', 'Token not found');
      requireWithin(actor, owner.roles, `Deleting a token of user ${userId}`, owner.tenants);
    }
    const byName = () => {
      // A PAT's own value may delete it; a name reaches its siblings, which only a session may delete.
      if (userId === actor.principalId) requireSession(actor, 'delete personal access tokens by name');
      return this.pats.findByName(userId, req.tokenOrName);
    };
    // A name may itself start like a token (`pcl_pat_…`): when no token has that value, it is a name.
    const pat = req.tokenOrName.startsWith(PAT_PREFIX)
      ? ((await this.pats.findByHash(userId, this.masterKey.hashSecret(req.tokenOrName))) ?? (await byName()))
      : await byName();
    if (!pat) throw new PortcullisError('NOT_FOUND', 'Token not found');
    if (!pat.deletedAt) await this.sessions.deletePat(pat.userId, pat.id, 'pat_deleted', actor.claims.sub);
    return { deleted: true };
  }

  private badExpiry(message: string) {
    return new PortcullisError('BAD_REQUEST', message, [{ field: 'expiresAt', errors: [message] }]);
  }
}
