import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ExtendedTokenRequest,
  permissionsOf,
  PortcullisError,
  SUBJECTS,
  TokenReply,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { ClientsRepository } from '../clients/clients.repository';
import { ActorService, lifetimeLeft } from './actor.service';
import { TokenIssuerService } from './token-issuer.service';
import { lineageOf } from './token-lineage';

/** `expiry` as seconds from now: given so, or up to the moment given (a past moment is bad input). */
function secondsUntil(expiry: number | string): number {
  if (typeof expiry === 'number') return expiry;
  const seconds = Math.floor((new Date(expiry).getTime() - Date.now()) / 1000);
  if (seconds < 1)
    throw new PortcullisError('BAD_REQUEST', 'expiry must be in the future', [
      { field: 'expiry', errors: ['expiry must be in the future'] },
    ]);
  return seconds;
}

/**
 * An extended token: a registered, enabled client's token with a chosen lifetime, capped at
 * EXTENDED_TOKEN_MAX_TTL and at the client's maxTokenLifetime. Issued by administrators and cluster components (`system`).
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
    // SPEC §4: the chosen expiry is capped, not refused; expires_in tells the caller what it got.
    // A derived credential (a PAT, an API key's bearer) mints nothing that outlives it, as with POST
    // /tokens. A system token is how a cluster component asks: its extended tokens are its purpose.
    const derived = !actor.session && c.typ !== 'system';
    const asked = secondsUntil(req.expiry);
    // The client read with its row shared, in the transaction that records the token: a role removed
    // with its tokens revoked either waits for this token and revokes it, or has committed first.
    return this.ds.transaction(async (m) => {
      const client = await this.clients.findLocked(req.clientId, m, 'pessimistic_read');
      if (!client) throw new PortcullisError('NOT_FOUND', `Client ${req.clientId} not found`);
      if (!client.enabled) throw new PortcullisError('REFUSED', `Client ${req.clientId} is disabled`);
      // The token is the client's: its maxTokenLifetime caps it as it caps every token the client
      // owns, or an operator's cap on a client would be one extended token away from meaningless.
      const ttl = Math.min(
        asked,
        this.config.EXTENDED_TOKEN_MAX_TTL,
        client.maxTokenLifetime ?? Infinity,
        derived ? lifetimeLeft(actor) : Infinity,
      );
      // Without tokens:admin, the system role mints for clients that can do no more than its token:
      // otherwise a cluster component could make itself a month-long admin.
      const beyond = actor.permissions.includes('tokens:admin')
        ? []
        : permissionsOf(client.roles).filter((p) => !actor.permissions.includes(p));
      if (beyond.length)
        throw new PortcullisError(
          'FORBIDDEN',
          `Client ${req.clientId} holds permissions this token lacks (${beyond.join(', ')}): that needs tokens:admin`,
        );
      // The client's row before the caller's, as a disable, delete or role change of the client takes them.
      await this.actors.requireStillLive(actor, m);
      const issued = await this.issuer.issueAccess(
        {
          sub: client.clientId,
          cid: client.clientId,
          rcid: c.cid,
          typ: 'extended',
          roles: client.roles,
          tenants: client.tenants,
          ttlSeconds: ttl,
          userId: null,
          // A narrowed caller (a PAT, a scope) mints no wider token, as with POST /tokens and the system token.
          perms: c.perms,
          // ...and it ends with that credential's line (deleting the PAT or key), as with POST /tokens.
          familyId: derived ? lineageOf(c) : undefined,
        },
        m,
      );
      await this.audit.record(
        {
          type: 'token.issued',
          actor: c.sub,
          subject: client.clientId,
          success: true,
          data: { tid: issued.tid, typ: 'extended', ttl },
        },
        m,
      );
      return {
        access_token: issued.token,
        token_type: 'Bearer' as const,
        expires_in: ttl,
        roles: client.roles,
        tid: issued.tid,
      };
    });
  }
}
