import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthenticatedRequestDto,
  ClientIdRequest,
  ClientView,
  ListClientsRequest,
  Page,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { ActorService } from '../tokens/actor.service';
import { toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';

@Controller()
export class ReadClientsHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_LIST)
  async list(@Payload() payload: unknown): Promise<Page<ClientView>> {
    const req = validatePayload(ListClientsRequest, payload);
    await this.actors.authenticate(req.auth, 'clients:read');
    const page = await this.clients.list(req.roles, req.limit, req.cursor);
    return { items: page.items.map(toClientView), nextCursor: page.nextCursor };
  }

  @MessagePattern(SUBJECTS.CLIENTS_GET)
  async get(@Payload() payload: unknown): Promise<ClientView> {
    const req = validatePayload(ClientIdRequest, payload);
    await this.actors.authenticate(req.auth, 'clients:read');
    return toClientView(await this.clients.get(req.clientId));
  }

  /** The calling client itself; a user token has no client to show. */
  @MessagePattern(SUBJECTS.CLIENTS_ME)
  async me(@Payload() payload: unknown): Promise<ClientView> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth);
    if (actor.isUser) throw new PortcullisError('FORBIDDEN', 'Only a client token has a client of its own');
    return toClientView(await this.clients.get(actor.claims.sub));
  }
}
