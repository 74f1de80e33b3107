import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  AuthenticatedRequestDto,
  RevokeAllTokensRequest,
  CountReply,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
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

  /**
   * Every token but the caller's own, or, with the listing's filters, every token they select and
   * the refresh families those belong to (a family outlives its access tokens otherwise).
   */
  @MessagePattern(SUBJECTS.TOKENS_REVOKE_ALL)
  async all(@Payload() payload: unknown): Promise<CountReply> {
    const req = validatePayload(RevokeAllTokensRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:admin');
    const { jti, fam } = actor.claims;
    const params: unknown[] = [jti];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = ['tid <> $1'];
    if (req.roles?.length) where.push(`roles @> ${p(req.roles)}::text[]`);
    if (req.client_ids?.length) where.push(`cid = ANY(${p(req.client_ids)}::text[])`);
    if (req.exclude_expired) where.push('expires_at > now()');
    const filtered = where.length > 1;
    return this.ds.transaction(async (m) => {
      if (filtered)
        await m.query(
          `UPDATE refresh_tokens SET revoked = true WHERE NOT revoked AND family_id IS DISTINCT FROM $${params.length + 1}::uuid
             AND family_id IN (SELECT family_id FROM access_tokens WHERE family_id IS NOT NULL AND ${where.join(' AND ')})`,
          [...params, fam ?? null],
        );
      else
        await m.query(
          `UPDATE refresh_tokens SET revoked = true WHERE NOT revoked AND family_id IS DISTINCT FROM $1::uuid`,
          [fam ?? null],
        );
      const count = await this.revocation.revokeWhere(
        where.join(' AND '),
        params,
        'revoked_all_by_admin',
        actor.claims.sub,
        m,
      );
      return { count };
    });
  }
}
