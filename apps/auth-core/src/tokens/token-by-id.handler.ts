import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { PortcullisError, SUBJECTS, TokenData, TokenIdRequest, validatePayload } from '@portcullis/contracts';
import { AccessTokenEntity } from './access-token.entity';
import { AccessTokensRepository, toTokenData } from './access-tokens.repository';
import { Actor, ActorService, can } from './actor.service';
import { RevocationService } from './revocation.service';

/**
 * One token by id, for its owner or `tokens:admin`. Anyone else gets 404, exactly as for a
 * token that does not exist, so ids cannot be probed.
 */
@Controller()
export class TokenByIdHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly tokens: AccessTokensRepository,
    private readonly revocation: RevocationService,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_GET)
  async get(@Payload() payload: unknown): Promise<TokenData> {
    const req = validatePayload(TokenIdRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:read');
    return toTokenData(await this.visible(actor, req.tid));
  }

  /** Idempotent: revoking a revoked token answers the same as the first time. */
  @MessagePattern(SUBJECTS.TOKENS_REVOKE)
  async revoke(@Payload() payload: unknown): Promise<{ tid: string; revoked: true }> {
    const req = validatePayload(TokenIdRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:write');
    const token = await this.visible(actor, req.tid);
    if (!token.revoked) await this.revocation.revokeTokens([token.tid], 'revoked_by_id', actor.claims.sub);
    return { tid: token.tid, revoked: true };
  }

  private async visible(actor: Actor, tid: string): Promise<AccessTokenEntity> {
    const token = await this.tokens.find(tid);
    const owns = !!token && (token.sub === actor.principalId || (!actor.isUser && token.cid === actor.principalId));
    if (!token || (!owns && !can(actor, 'tokens:admin'))) throw new PortcullisError('NOT_FOUND', 'Token not found');
    return token;
  }
}
