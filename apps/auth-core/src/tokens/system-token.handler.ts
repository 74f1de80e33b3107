import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  AuthenticatedRequestDto,
  permissionsOf,
  PortcullisError,
  SUBJECTS,
  TokenReply,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ClientsRepository } from '../clients/clients.repository';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { ActorService, lifetimeLeft } from './actor.service';
import { TokenIssuerService } from './token-issuer.service';
import { lineageOf } from './token-lineage';

/**
 * The roles of every system token (SPEC §4: the `system` role), whatever else the caller holds:
 * an administrator asking for one does not hand admin power to a component.
 */
const SYSTEM_ROLES = ['system'];

/** A short-lived `typ: system` token for a cluster component's own client. */
@Controller()
export class SystemTokenHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.SYSTEM_TOKEN)
  async handle(@Payload() payload: unknown): Promise<TokenReply> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth);
    const c = actor.claims;
    if (!c.roles.includes('system') && !c.roles.includes('admin')) {
      throw new PortcullisError('FORBIDDEN', 'A system token needs the system or admin role');
    }
    // Else a system token could renew itself for ever, past the end of whoever asked for the first.
    if (c.typ === 'system')
      throw new PortcullisError(
        'FORBIDDEN',
        'A system token cannot mint another; ask with the credential it came from',
      );
    // Its subject is the caller's client: that client's maxTokenLifetime caps it, as every token it owns.
    const owner = c.cid === this.config.DEFAULT_CLIENT_ID ? null : await this.clients.find(c.cid);
    const ttl = Math.min(this.config.SYSTEM_TOKEN_TTL, lifetimeLeft(actor), owner?.maxTokenLifetime ?? Infinity);
    return this.ds.transaction(async (m) => {
      await this.actors.requireStillLive(actor, m);
      const issued = await this.issuer.issueAccess(
        {
          sub: c.cid,
          cid: c.cid,
          rcid: c.cid,
          typ: 'system',
          roles: SYSTEM_ROLES,
          tenants: c.tenants,
          // A token narrowed to permissions makes a system token no wider than itself.
          perms: c.perms?.filter((p) => permissionsOf(SYSTEM_ROLES).includes(p)),
          ttlSeconds: ttl,
          // Its subject is a client; the user who asked is kept so that revoking, disabling or
          // deleting the user ends it too (UserSessionsService.revokeSessions), and its family so
          // that the end of the session or credential it came from does.
          userId: actor.isUser ? c.sub : null,
          familyId: lineageOf(c),
        },
        m,
      );
      await this.audit.record(
        { type: 'token.issued', actor: c.sub, subject: c.cid, success: true, data: { tid: issued.tid, typ: 'system' } },
        m,
      );
      return {
        access_token: issued.token,
        token_type: 'Bearer' as const,
        expires_in: ttl,
        roles: SYSTEM_ROLES,
        tid: issued.tid,
      };
    });
  }
}
