import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientIdRequest, ClientStateRequest, ClientView, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { retryingTransaction } from '../database/retrying-transaction';
import { AccessTokensRepository } from '../tokens/access-tokens.repository';
import { ActorService, requireWithin } from '../tokens/actor.service';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { RevocationService } from '../tokens/revocation.service';
import { toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';

/**
 * Disable, enable and delete. Disabling refuses the client's tokens on every replica at once
 * (principal.disabled) and also revokes them, so enabling again restores issuing but never
 * brings an old token back. Deleting revokes the client's tokens and removes its API keys.
 */
@Controller()
export class ClientLifecycleHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_SET_STATE)
  async setState(@Payload() payload: unknown): Promise<ClientView> {
    const req = validatePayload(ClientStateRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    const client = await retryingTransaction(this.ds, async (m) => {
      const current = await this.clients.getLockedFor(
        req.clientId,
        actor.isUser ? null : actor.principalId,
        m,
        'pessimistic_write',
      );
      await this.actors.requireStillLive(actor, m);
      requireWithin(actor, current.roles, `Changing client ${req.clientId}`, current.tenants);
      const updated = await this.clients.update(req.clientId, { enabled: req.enabled }, m);
      if (!req.enabled) {
        await this.revokeAll(req.clientId, 'client_disabled', actor.claims.sub, m);
        await this.revocation.setPrincipalDisabled('client', req.clientId, true);
      } else if (!current.enabled) {
        // Every token it holds now predates this enable: a grant that read the client just before
        // the disable committed wrote its token after the disable's revocation, and only the
        // disabled state kept it out. Revoked (and announced) here, before that state is lifted.
        await this.revokeAll(req.clientId, 'client_disabled', actor.claims.sub, m);
      }
      await this.audit.record(
        {
          type: req.enabled ? 'client.enabled' : 'client.disabled',
          actor: actor.claims.sub,
          subject: req.clientId,
          success: true,
        },
        m,
      );
      return updated;
    });
    if (req.enabled) await this.revocation.setPrincipalDisabled('client', req.clientId, false);
    return toClientView(client);
  }

  @MessagePattern(SUBJECTS.CLIENTS_DELETE)
  async delete(@Payload() payload: unknown): Promise<{ deleted: true }> {
    const req = validatePayload(ClientIdRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    await retryingTransaction(this.ds, async (m) => {
      // The client row first, as a disable or a role change takes it before the client's tokens:
      // taking the tokens first and the row last deadlocked with them (one of the two a 500).
      const current = await this.clients.getLockedFor(
        req.clientId,
        actor.isUser ? null : actor.principalId,
        m,
        'pessimistic_write',
      );
      await this.actors.requireStillLive(actor, m);
      requireWithin(actor, current.roles, `Deleting client ${req.clientId}`, current.tenants);
      await this.revokeAll(req.clientId, 'client_deleted', actor.claims.sub, m);
      // API keys go with the client (ON DELETE CASCADE).
      await this.clients.delete(req.clientId, m);
      await this.audit.record(
        { type: 'client.deleted', actor: actor.claims.sub, subject: req.clientId, success: true },
        m,
      );
      // A deleted client stays refused in memory, so a client re-created under the same id
      // does not revive tokens that were minted before.
      await this.revocation.setPrincipalDisabled('client', req.clientId, true);
    });
    return { deleted: true };
  }

  /**
   * Its tokens, and what its API keys' bearers minted for another client (POST /tokens, extended
   * tokens): those name the other client and carry the key's id as family (token-lineage.ts), so
   * the owner condition alone left them valid past a disable, and past a delete whose cascade
   * removed the keys without revoking their line.
   */
  private async revokeAll(clientId: string, reason: string, actor: string, m: EntityManager): Promise<number> {
    await this.refreshTokens.revokeOfClient(clientId, m);
    return this.revocation.revokeWhere(
      `${AccessTokensRepository.ownerCondition(true, '$1')}
        OR family_id IN (SELECT id FROM api_keys WHERE client_id = $1)`,
      [clientId],
      reason,
      actor,
      m,
    );
  }
}
