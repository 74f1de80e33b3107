import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ClientView,
  ClientWithSecret,
  PortcullisError,
  SUBJECTS,
  UpdateClientRequest,
  UpdateOwnClientRequest,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { MasterKey } from '../keys/master-key';
import { Actor, ActorService, requireSession, requireWithin } from '../tokens/actor.service';
import { ClientEntity } from './client.entity';
import { generateClientSecret, toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';

/**
 * PATCH of a client (administrators) or of the calling client itself (description and secret
 * only). A rotated secret is in the reply once and the old one stops working at once.
 */
@Controller()
export class UpdateClientHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly masterKey: MasterKey,
    private readonly audit: AuditService,
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_UPDATE)
  async update(@Payload() payload: unknown): Promise<ClientView | ClientWithSecret> {
    const req = validatePayload(UpdateClientRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    const { auth: _auth, clientId, rotateSecret, ...changes } = req;
    if (changes.roles) requireWithin(actor, changes.roles, `Granting roles ${changes.roles.join(', ')}`);
    if (changes.tenants) requireWithin(actor, [], `Granting tenants ${changes.tenants.join(', ')}`, changes.tenants);
    // A client that may PATCH clients may PATCH itself: its secret still only from its own token.
    if (rotateSecret && !actor.isUser && actor.principalId === clientId) await this.requireWholeClient(actor);
    return this.apply(clientId, changes, !!rotateSecret, actor, true);
  }

  @MessagePattern(SUBJECTS.CLIENTS_UPDATE_ME)
  async updateMe(@Payload() payload: unknown): Promise<ClientView | ClientWithSecret> {
    const req = validatePayload(UpdateOwnClientRequest, payload);
    const actor = await this.actors.authenticate(req.auth);
    if (actor.isUser) throw new PortcullisError('FORBIDDEN', 'Only a client token has a client of its own');
    if (req.rotateSecret) await this.requireWholeClient(actor);
    const changes = req.description !== undefined ? { description: req.description } : {};
    return this.apply(actor.claims.sub, changes, !!req.rotateSecret, actor, false);
  }

  /** The secret is the whole client: only a token that is the whole client may replace it. */
  private async requireWholeClient(actor: Actor): Promise<void> {
    requireSession(actor, 'rotate its client secret');
    const narrowed = (await this.clients.get(actor.claims.sub)).roles.some((r) => !actor.claims.roles.includes(r));
    if (narrowed)
      throw new PortcullisError('FORBIDDEN', "A token narrowed to some of the client's roles cannot rotate its secret");
  }

  /** `admin`: an administrator's change, which reaches no client holding more than its token. */
  private apply(clientId: string, changes: Partial<ClientEntity>, rotate: boolean, actor: Actor, admin: boolean) {
    return this.ds.transaction(async (m) => {
      // The client's row before the caller's, as a disable or a delete of the client takes them.
      const current = await this.clients.getLockedFor(
        clientId,
        actor.isUser ? null : actor.principalId,
        m,
        'pessimistic_write',
      );
      await this.actors.requireStillLive(actor, m);
      if (admin) requireWithin(actor, current.roles, `Changing client ${clientId}`, current.tenants);
      const secret = rotate ? generateClientSecret() : null;
      const values: Partial<ClientEntity> = {
        ...changes,
        ...(secret ? { secretHash: this.masterKey.hashSecret(secret) } : {}),
      };
      const client = await this.clients.update(clientId, values, m);
      await this.audit.record(
        {
          type: 'client.updated',
          actor: actor.claims.sub,
          subject: clientId,
          success: true,
          // Only what the request set: a DTO instance carries its unset optional fields as undefined.
          data: {
            fields: Object.keys(changes).filter((k) => changes[k as keyof ClientEntity] !== undefined),
            secretRotated: rotate,
          },
        },
        m,
      );
      return secret ? { ...toClientView(client), client_secret: secret } : toClientView(client);
    });
  }
}
