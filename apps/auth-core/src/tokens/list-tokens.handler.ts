import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ListTokensRequest, Page, SUBJECTS, TokenData, validatePayload } from '@portcullis/contracts';
import { AccessTokensRepository } from './access-tokens.repository';
import { ActorService } from './actor.service';

/** Token listings: the caller's own, or everyone's for `tokens:admin`. Never the token value. */
@Controller()
export class ListTokensHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly tokens: AccessTokensRepository,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_LIST)
  async own(@Payload() payload: unknown): Promise<Page<TokenData>> {
    const req = validatePayload(ListTokensRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:read');
    return this.tokens.list(
      {
        ownerId: actor.principalId,
        ownerIsClient: !actor.isUser,
        roles: req.roles,
        excludeExpired: req.exclude_expired,
        clientIds: req.client_ids,
      },
      req.limit,
      req.cursor,
    );
  }

  @MessagePattern(SUBJECTS.TOKENS_LIST_ALL)
  async all(@Payload() payload: unknown): Promise<Page<TokenData>> {
    const req = validatePayload(ListTokensRequest, payload);
    await this.actors.authenticate(req.auth, 'tokens:admin');
    return this.tokens.list(
      { roles: req.roles, excludeExpired: req.exclude_expired, clientIds: req.client_ids },
      req.limit,
      req.cursor,
    );
  }
}
