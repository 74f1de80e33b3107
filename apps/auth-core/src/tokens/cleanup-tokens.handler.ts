import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthenticatedRequestDto, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { AccessTokensRepository } from './access-tokens.repository';
import { ActorService } from './actor.service';

export interface CleanupReply {
  count: number;
  accessTokens: number;
  refreshTokens: number;
  /** Deleted PATs and API keys past their expiry. */
  deletedCredentials: number;
}

/** POST /tokens/cleanup: purge expired token records now (the scheduler does it periodically). */
@Controller()
export class CleanupTokensHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly tokens: AccessTokensRepository,
    private readonly audit: AuditService,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_CLEANUP)
  async handle(@Payload() payload: unknown): Promise<CleanupReply> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:admin');
    const r = await this.tokens.deleteExpired(this.config.CLOCK_SKEW);
    await this.audit.record({ type: 'tokens.cleanup', actor: actor.claims.sub, success: true, data: { ...r } });
    return { count: r.accessTokens + r.refreshTokens + r.deletedCredentials, ...r };
  }
}
