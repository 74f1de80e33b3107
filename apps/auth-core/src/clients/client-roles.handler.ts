import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientRoleRequest, ClientView, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { retryingTransaction } from '../database/retrying-transaction';
import { AccessTokensRepository } from '../tokens/access-tokens.repository';
import { ActorService, requireWithin } from '../tokens/actor.service';
import { RevocationService } from '../tokens/revocation.service';
import { toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';

/**
 * Clear, add or remove a client's roles. New tokens carry the new roles at once; tokens already
 * issued keep theirs until they expire, unless `revoke_tokens` asks for them to be revoked.
 */
@Controller()
export class ClientRolesHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_ROLES)
  async handle(@Payload() payload: unknown): Promise<ClientView & { revokedTokens: number }> {
    const req = validatePayload(ClientRoleRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    if (req.action !== 'clear' && !req.role)
      throw new PortcullisError('BAD_REQUEST', 'role is required', [{ field: 'role', errors: ['role is required'] }]);
    if (req.action === 'add') requireWithin(actor, [req.role!], `Granting role ${req.role}`);
    return retryingTransaction(this.ds, async (m) => {
      const client = await this.clients.getLockedFor(
        req.clientId,
        actor.isUser ? null : actor.principalId,
        m,
        'pessimistic_write',
      );
      await this.actors.requireStillLive(actor, m);
      requireWithin(actor, client.roles, `Changing client ${req.clientId}`, client.tenants);
      const roles =
        req.action === 'clear'
          ? []
          : req.action === 'add'
            ? [...new Set([...client.roles, req.role!])]
            : client.roles.filter((r) => r !== req.role);
      const updated = await this.clients.update(req.clientId, { roles }, m);
      const revokedTokens = req.revoke_tokens
        ? await this.revocation.revokeWhere(
            AccessTokensRepository.ownerCondition(true, '$1'),
            [req.clientId],
            'client_roles_changed',
            actor.claims.sub,
            m,
          )
        : 0;
      await this.audit.record(
        {
          type: 'client.roles_changed',
          actor: actor.claims.sub,
          subject: req.clientId,
          success: true,
          data: { action: req.action, role: req.role ?? null, roles },
        },
        m,
      );
      return { ...toClientView(updated), revokedTokens };
    });
  }
}
