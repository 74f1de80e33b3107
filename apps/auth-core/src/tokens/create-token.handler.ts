import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CreatedTokenReply,
  CreateTokenRequest,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { ClientsRepository } from '../clients/clients.repository';
import { toTokenData } from './access-tokens.repository';
import { ActorService, can, lifetimeLeft } from './actor.service';
import { TokenIssuerService } from './token-issuer.service';
import { lineageOf } from './token-lineage';

/** POST /tokens: an access token for the caller, or (with `tokens:admin`) for a client. */
@Controller()
export class CreateTokenHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_CREATE)
  async handle(@Payload() payload: unknown): Promise<CreatedTokenReply> {
    const req = validatePayload(CreateTokenRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:write');
    const c = actor.claims;

    // In one transaction with the write: the client a token is minted for is read with its row
    // shared, so a role removed with its tokens revoked (?revoke_tokens=true) either waits for this
    // token and revokes it, or has committed and the token is built from the row as it now is (or,
    // for the caller's own client, whose roles the token takes from the caller's, is refused with
    // the caller's revoked token: see requireStillLive).
    return this.ds.transaction(async (m) => {
      let target: {
        sub: string;
        cid: string;
        typ: 'user' | 'client';
        roles: string[];
        tenants: string[];
        cap: number;
        userId: string | null;
        familyId?: string;
      };
      const forAnother = Boolean(req.client_id && req.client_id !== c.cid);
      if (req.client_id && forAnother) {
        if (!can(actor, 'tokens:admin'))
          throw new PortcullisError('FORBIDDEN', 'Minting a token for another client needs tokens:admin');
        const client = await this.clients.findLocked(req.client_id, m, 'pessimistic_read');
        if (!client) throw new PortcullisError('NOT_FOUND', `Client ${req.client_id} not found`);
        if (!client.enabled) throw new PortcullisError('REFUSED', `Client ${req.client_id} is disabled`);
        const cap = Math.min(this.config.TOKEN_MAX_TTL, client.maxTokenLifetime ?? Infinity);
        target = {
          sub: client.clientId,
          cid: client.clientId,
          typ: 'client',
          roles: client.roles,
          tenants: client.tenants,
          cap,
          userId: null,
          // Minted by a derived credential (a PAT, an API key's bearer), it ends with that one's line
          // (deleting the PAT or key); a session's token for a client is of the client's own line.
          familyId: actor.session ? undefined : lineageOf(c),
        };
      } else {
        const typ = actor.isUser ? 'user' : 'client';
        // The client's own cap holds for every token it owns, however it was minted: a client (or a
        // user signed in through it) must not outlast `maxTokenLifetime` by minting its own token.
        // Its row shared, as for another client above: a role change with revoke_tokens holds it
        // while it sweeps the client's tokens, so this token either waits and then finds its caller
        // revoked, or is committed before the sweep starts and is swept. Unshared, it could commit
        // while the sweep ran and keep the removed role.
        const own = await this.clients.findLocked(c.cid, m, 'pessimistic_read');
        target = {
          sub: c.sub,
          cid: c.cid,
          typ,
          roles: c.roles,
          tenants: c.tenants,
          cap: Math.min(this.config.TOKEN_MAX_TTL, own?.maxTokenLifetime ?? Infinity),
          userId: actor.isUser ? c.sub : null,
          familyId: lineageOf(c),
        };
      }

      // A token minted from a PAT, an API key's bearer or another derived token ends when that one
      // does: otherwise a credential about to expire (or to be deleted) could renew itself.
      target.cap = Math.min(target.cap, lifetimeLeft(actor));
      const roles = req.roles ?? target.roles;
      // `admin` is everything (SPEC §2): an admin's token may be narrowed to any other role.
      const wider = target.roles.includes('admin') ? [] : roles.filter((r) => !target.roles.includes(r));
      // Another client's roles bound every caller alike (REFUSED: no insufficient_scope); the
      // caller's own are its token's, which a token with those roles would pass (FORBIDDEN).
      if (wider.length)
        throw new PortcullisError(
          forAnother ? 'REFUSED' : 'FORBIDDEN',
          `Roles not held by the token's owner: ${wider.join(', ')}`,
        );
      if (req.token_life !== undefined && req.token_life > target.cap) {
        throw new PortcullisError('BAD_REQUEST', `token_life exceeds the maximum of ${target.cap} seconds`, [
          { field: 'token_life', errors: [`token_life must not be greater than ${target.cap}`] },
        ]);
      }
      const ttl = req.token_life ?? Math.min(this.config.ACCESS_TOKEN_TTL, target.cap);

      // The client's row before the caller's, as a disable, delete or role change of the client takes them.
      await this.actors.requireStillLive(actor, m);
      const issued = await this.issuer.issueAccess(
        {
          sub: target.sub,
          cid: target.cid,
          rcid: c.cid,
          typ: target.typ,
          roles,
          tenants: target.tenants,
          ttlSeconds: ttl,
          userId: target.userId,
          familyId: target.familyId,
          perms: c.perms,
        },
        m,
      );
      await this.audit.record(
        {
          type: 'token.issued',
          actor: c.sub,
          subject: target.sub,
          success: true,
          data: { tid: issued.tid, via: 'tokens.create', ttl },
        },
        m,
      );
      const data = toTokenData({
        tid: issued.tid,
        sub: target.sub,
        cid: target.cid,
        rcid: c.cid,
        typ: target.typ,
        roles,
        revoked: false,
        created_at: new Date(issued.claims.iat * 1000),
        expires_at: new Date(issued.claims.exp * 1000),
      });
      return { ...data, access_token: issued.token, token_type: 'Bearer' as const, expires_in: ttl, roles };
    });
  }
}
