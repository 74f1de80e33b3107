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
import { retryingTransaction } from '../database/retrying-transaction';
import { UserSessionsService } from '../users/user-sessions.service';
import { AdminContinuityService } from '../users/admin-continuity.service';
import { UsersRepository } from '../users/users.repository';
import { AccessTokensRepository } from './access-tokens.repository';
import { ActorService } from './actor.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RevocationService } from './revocation.service';

/** Mass revocation: all of the caller's tokens, or (admin) everything but the caller's own. */
@Controller()
export class RevokeTokensHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly revocation: RevocationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly sessions: UserSessionsService,
    private readonly users: UsersRepository,
    private readonly admins: AdminContinuityService,
    private readonly accessTokens: AccessTokensRepository,
  ) {}

  @MessagePattern(SUBJECTS.TOKENS_REVOKE_OWN)
  async own(@Payload() payload: unknown): Promise<CountReply> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth, 'tokens:write');
    return retryingTransaction(this.ds, async (m) => {
      // A user's tokens include the system tokens they asked for (their subject is a client), as
      // when an administrator revokes the user's tokens; their sessions (refresh families) go too.
      if (actor.isUser) {
        // The user's row first, as POST /users/{id}/revoke takes it: a token the user's other request
        // is minting meanwhile is waited for and revoked with the rest (see ActorService.requireStillLive).
        await this.users.findByIdLocked(actor.principalId, m, 'pessimistic_write');
        return { count: await this.sessions.revokeSessions(actor.principalId, 'revoked_own', actor.claims.sub, m) };
      }
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
    const filters = AccessTokensRepository.filterConditions(
      { roles: req.roles, clientIds: req.client_ids, excludeExpired: req.exclude_expired },
      p,
    );
    const where = ['tid <> $1', ...filters].join(' AND ');
    return retryingTransaction(this.ds, async (m) => {
      // Two administrators revoking everything at once would each hold its own token's row
      // (requireStillLive) and wait for the other's: a deadlock. They take turns, as administrators'
      // changes of users do.
      await this.admins.lock(m);
      await this.actors.requireStillLive(actor, m);
      // The caller's own family stays; with filters, only the families of the selected tokens go.
      const families = () =>
        this.refreshTokens.revokeAllBut(fam ?? null, m, filters.length ? { where, params } : undefined);
      // Families before the token table: a refresh, a logout or a user's sweep holds refresh-token rows
      // and then writes access tokens, which would wait for the table while this waits for the rows.
      await families();
      // "All" includes a token minted while this runs, which the sweep's snapshot would miss. After
      // the caller's rows, which a password change holds before it waits for the table.
      await this.accessTokens.lockAgainstWrites(m);
      // Again for a session a login committed since the first pass (its access token is swept below).
      await families();
      const count = await this.revocation.revokeWhere(where, params, 'revoked_all_by_admin', actor.claims.sub, m);
      return { count };
    });
  }
}
