import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LogoutSessionRequestDto, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { UserSessionsService } from '../users/user-sessions.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RevocationService } from './revocation.service';
import { TokenValidationService, unlessUnavailable } from './token-validation.service';

/**
 * Revokes the presented access token and, for a login session, its whole refresh family; a PAT
 * presented is deleted. A refresh token sent along (as clients of Keycloak's logout do) ends its
 * session too, if it is the same user's; someone else's is refused, and nothing is revoked.
 */
@Controller()
export class LogoutHandler {
  constructor(
    private readonly validation: TokenValidationService,
    private readonly revocation: RevocationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly sessions: UserSessionsService,
  ) {}

  @MessagePattern(SUBJECTS.LOGOUT)
  async handle(@Payload() payload: unknown): Promise<{ revoked: number }> {
    const req = validatePayload(LogoutSessionRequestDto, payload);
    const result = unlessUnavailable(await this.validation.validate(req.token));
    if (!result.valid) throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    const { claims } = result;
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
      revoked = await this.revocation.revokeFamily(claims.fam, 'logout', claims.sub);
    } else {
      // A bearer exchanged for an API key carries the key's id as `fam` (deleting the key ends them
      // all), but that is no session: the other pods sharing the key keep theirs.
      revoked = await this.revocation.revokeTokens([claims.jti], 'logout', claims.sub);
    }
    if (other && other.familyId !== claims.fam)
      revoked += await this.revocation.revokeFamily(other.familyId, 'logout', claims.sub);
    return { revoked };
  }
}
