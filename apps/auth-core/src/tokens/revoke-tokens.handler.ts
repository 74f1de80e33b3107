import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuthenticatedRequestDto, CountReply, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AccessTokensRepository } from './access-tokens.repository';
import { ActorService } from './actor.service';
import { RevocationService } from './revocation.service';

/** Mass revocation: all of the caller's tokens, or (admin) everything but the caller's own. */
@Controller()
export class RevokeTokensHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly revocation: RevocationService,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_REVOKE_OWN)
  async own(@Payload() payload: unknown): Promise<CountReply> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:write');
    return this.ds.transaction(async (m) => {
      if (actor.isUser)
        await m.query(`UPDATE refresh_tokens SET revoked = true WHERE user_id = $1 AND NOT revoked`, [
          actor.principalId,
        ]);
      const count = await this.revocation.revokeWhere(
        AccessTokensRepository.ownerCondition(!actor.isUser, '$1'),
        [actor.principalId],
        'revoked_own',
        actor.claims.sub,
        m,
      );
      return { count };
    });
  }

  @MessagePattern(SUBJECTS.TOKENS_REVOKE_ALL)
  async all(@Payload() payload: unknown): Promise<CountReply> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:admin');
    const { jti, fam } = actor.claims;
    return this.ds.transaction(async (m) => {
      await m.query(
        `UPDATE refresh_tokens SET revoked = true WHERE NOT revoked AND family_id IS DISTINCT FROM $1::uuid`,
        [fam ?? null],
      );
      const count = await this.revocation.revokeWhere('tid <> $1', [jti], 'revoked_all_by_admin', actor.claims.sub, m);
      return { count };
    });
  }
}
