import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RevokeRequest, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { decodeCompact } from '@portcullis/jwt';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { RevocationService } from '../tokens/revocation.service';
import { REFRESH_TOKEN_PREFIX } from '../tokens/token-issuer.service';
import { TokenValidationService, unlessUnavailable } from '../tokens/token-validation.service';
import { ClientAuthenticatorService } from './client-authenticator.service';

/**
 * RFC 7009. Answers the same for unknown tokens, for tokens of other clients (which it leaves
 * alone) and for tokens it revoked, so the endpoint reveals nothing about token existence.
 */
@Controller()
export class RevokeHandler {
  constructor(
    private readonly authenticator: ClientAuthenticatorService,
    private readonly validation: TokenValidationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly revocation: RevocationService,
  ) {}

  @MessagePattern(SUBJECTS.OAUTH_REVOKE)
  async handle(@Payload() payload: unknown): Promise<{ revoked: boolean }> {
    const req = validatePayload(RevokeRequest, payload);
    const client = await this.authenticator.authenticate(req.client_id, req.client_secret);
    // The prefix says what the token is; token_type_hint is only a hint (RFC 7009 §2.1).
    if (req.token.startsWith(REFRESH_TOKEN_PREFIX)) {
      // Rotated or expired too: the client that holds a stale copy of its session's refresh token
      // (a logout after a refresh it lost track of) still means to end that grant (§2.1).
      const rt = await this.refreshTokens.findByToken(req.token);
      if (!rt || rt.cid !== client.clientId) return { revoked: false };
      await this.revocation.revokeFamily(rt.familyId, 'oauth_revoke', client.clientId);
      return { revoked: true };
    }
    // Only a token this server signed counts; an expired one needs no revoking.
    if (!decodeCompact(req.token)) return { revoked: false };
    const result = unlessUnavailable(await this.validation.validate(req.token));
    if (!result.valid) return { revoked: false };
    const c = result.claims;
    if (c.cid !== client.clientId) return { revoked: false };
    // A session's family ends with it (RFC 7009 §2.1); an API key's bearers share the key's id as
    // their family, and one of them revoked must not end the others.
    const count =
      c.fam && c.typ !== 'apikey'
        ? await this.revocation.revokeFamily(c.fam, 'oauth_revoke', client.clientId)
        : await this.revocation.revokeTokens([c.jti], 'oauth_revoke', client.clientId);
    return { revoked: count > 0 };
  }
}
