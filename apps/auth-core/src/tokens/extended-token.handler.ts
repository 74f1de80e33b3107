import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { ExtendedTokenRequest, PortcullisError, SUBJECTS, TokenReply, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { ClientsRepository } from '../clients/clients.repository';
import { ActorService } from './actor.service';
import { TokenIssuerService } from './token-issuer.service';

/**
 * An extended token: a registered, enabled client's token with a chosen lifetime, up to
 * EXTENDED_TOKEN_MAX_TTL. Issued by administrators and cluster components (`system`).
 */
@Controller()
export class ExtendedTokenHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.EXTENDED_TOKEN)
  async handle(@Payload() payload: unknown): Promise<TokenReply> {
    const req = validatePayload(ExtendedTokenRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    const c = actor.claims;
    if (!actor.permissions.includes('tokens:admin') && !c.roles.includes('system')) {
      throw new PortcullisError('FORBIDDEN', 'An extended token needs tokens:admin or the system role');
    }
    const cap = this.config.EXTENDED_TOKEN_MAX_TTL;
    if (req.expiry > cap) {
      throw new PortcullisError(
        'BAD_REQUEST',
        `expiry exceeds the maximum of ${cap} seconds (EXTENDED_TOKEN_MAX_TTL)`,
        [{ field: 'expiry', errors: [`expiry must not be greater than ${cap}`] }],
      );
    }
    const client = await this.clients.find(req.clientId);
    if (!client) throw new PortcullisError('NOT_FOUND', `Client ${req.clientId} not found`);
    if (!client.enabled) throw new PortcullisError('FORBIDDEN', `Client ${req.clientId} is disabled`);
    return this.ds.transaction(async (m) => {
      const issued = await this.issuer.issueAccess(
        {
          sub: client.clientId,
          cid: client.clientId,
          rcid: c.cid,
          typ: 'extended',
          roles: client.roles,
          tenants: client.tenants,
          ttlSeconds: req.expiry,
          userId: null,
        },
        m,
      );
      await this.audit.record(
        {
          type: 'token.issued',
          actor: c.sub,
          subject: client.clientId,
          success: true,
          data: { tid: issued.tid, typ: 'extended', ttl: req.expiry },
        },
        m,
      );
      return {
        access_token: issued.token,
        token_type: 'Bearer' as const,
        expires_in: req.expiry,
        roles: client.roles,
        tid: issued.tid,
      };
    });
  }
}
