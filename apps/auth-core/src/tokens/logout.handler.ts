import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  AccessTokenClaims,
  isWellFormedCredential,
  LogoutSessionRequestDto,
  PAT_PREFIX,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { VERIFY_FAILURE_MESSAGES } from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { PatsRepository } from '../credentials/pats.repository';
import { retryingTransaction } from '../database/retrying-transaction';
import { KeyRingService } from '../keys/key-ring.service';
import { MasterKey } from '../keys/master-key';
import { UserSessionsService } from '../users/user-sessions.service';
import { UsersRepository } from '../users/users.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RevocationService } from './revocation.service';
import { TokenValidationService, unlessUnavailable } from './token-validation.service';

type Ended = Pick<AccessTokenClaims, 'sub' | 'jti' | 'typ' | 'fam'>;

/**
 * Revokes the presented access token and, for a login session, its whole refresh family; a PAT
 * presented is deleted. A refresh token sent along (as clients of Keycloak's logout do) ends its
 * session too, if it is the same user's; someone else's is refused, and nothing is revoked.
 *
 * The bearer need only be one Portcullis issued: revoked already (a second logout, or after DELETE
 * /tokens/{tid}) it answers as the first time and changes nothing more than what is still live of
 * its session (revocation is idempotent, SPEC §7); expired, it still ends its session, whose refresh
 * tokens outlive it (Keycloak accepts an expired id_token_hint at logout). A token of another issuer,
 * audience or key, a forged or malformed one, a PAT never issued: 401.
 */
@Controller()
export class LogoutHandler {
  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly validation: TokenValidationService,
    private readonly keys: KeyRingService,
    private readonly masterKey: MasterKey,
    private readonly pats: PatsRepository,
    private readonly revocation: RevocationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly sessions: UserSessionsService,
    private readonly users: UsersRepository,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  @MessagePattern(SUBJECTS.LOGOUT)
  async handle(@Payload() payload: unknown): Promise<{ revoked: number }> {
    const req = validatePayload(LogoutSessionRequestDto, payload);
    const claims = await this.issued(req.token);
    const other = req.refresh_token ? await this.refreshTokens.findActive(req.refresh_token) : null;
    if (req.refresh_token && other?.userId !== claims.sub)
      throw new PortcullisError('BAD_REQUEST', 'refresh_token is not an active session of this user', [
        { field: 'refresh_token', errors: ['not an active refresh token of this user'] },
      ]);
    let revoked: number;
    if (claims.typ === 'pat') {
      // A PAT is judged against its own table, not the access-token records: ending it is deleting
      // it, as DELETE /users/me/tokens/{id} does (every replica refuses it at once).
      revoked = (await this.sessions.deletePat(claims.sub, claims.jti, 'logout', claims.sub)) ? 1 : 0;
    } else if (claims.fam && claims.typ !== 'apikey') {
      const fam = claims.fam;
      revoked = await retryingTransaction(this.ds, async (m) => {
        // A session's user row first, as a write the session asks for shares it (ActorService.
        // requireStillLive): a token it is minting meanwhile is waited for and ends with the family,
        // where the revoking statement alone did not see it; one asked for later is refused.
        if (claims.typ === 'user') await this.users.findByIdLocked(claims.sub, m, 'pessimistic_write');
        return this.revocation.revokeFamily(fam, 'logout', claims.sub, m);
      });
    } else {
      // A bearer exchanged for an API key carries the key's id as `fam` (deleting the key ends them
      // all), but that is no session: the other pods sharing the key keep theirs.
      revoked = await this.revocation.revokeTokens([claims.jti], 'logout', claims.sub);
    }
    if (other && other.familyId !== claims.fam)
      revoked += await this.revocation.revokeFamily(other.familyId, 'logout', claims.sub);
    return { revoked };
  }

  /**
   * What the bearer ends: a valid token's claims, else those of a token Portcullis issued that has
   * been revoked, deleted, disabled with its owner or has expired since. Only the usual judgement
   * (from memory) runs for a live token; the rest is for a token it refused.
   */
  private async issued(token: string): Promise<Ended> {
    const result = unlessUnavailable(await this.validation.validate(token));
    if (result.valid) return result.claims;
    if (token.startsWith(PAT_PREFIX)) {
      const pat = isWellFormedCredential(token, PAT_PREFIX)
        ? await this.pats.findAnyByHash(this.masterKey.hashSecret(token))
        : null;
      if (pat) return { sub: pat.userId, jti: pat.id, typ: 'pat' };
      throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    }
    const verified = this.keys.verifier.verifyIssued(token, {
      issuer: this.config.ISSUER,
      audience: this.config.AUDIENCE,
      clockSkew: this.config.CLOCK_SKEW,
    });
    if (!verified.ok) throw new PortcullisError('UNAUTHENTICATED', VERIFY_FAILURE_MESSAGES[verified.reason]);
    return verified.claims;
  }
}
