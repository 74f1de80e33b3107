import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  API_KEY_PREFIX,
  isWellFormedCredential,
  PAT_PREFIX,
  PortcullisError,
  RevokeRequest,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { decodeCompact } from '@portcullis/jwt';
import { ApiKeysRepository } from '../credentials/api-keys.repository';
import { MasterKey } from '../keys/master-key';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { RevocationService } from '../tokens/revocation.service';
import { REFRESH_TOKEN_PREFIX } from '../tokens/token-issuer.service';
import { TokenValidationService, unlessUnavailable } from '../tokens/token-validation.service';
import { ClientAuthenticatorService } from './client-authenticator.service';

/**
 * RFC 7009. Answers the same for unknown tokens, for tokens of other clients (which it leaves
 * alone) and for tokens it revoked, so the endpoint reveals nothing about token existence. A PAT,
 * and the client's own live API key, are unsupported_token_type: deleted elsewhere, not revoked.
 */
@Controller()
export class RevokeHandler {
  constructor(
    private readonly authenticator: ClientAuthenticatorService,
    private readonly validation: TokenValidationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly revocation: RevocationService,
    private readonly apiKeys: ApiKeysRepository,
    private readonly masterKey: MasterKey,
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
    // A PAT belongs to a user, never to a client, and is deleted (DELETE /api/v1/users/me/tokens/…),
    // not revoked: a 200 would tell the client it was gone while it kept working (RFC 7009 §2.2.1).
    // Answered by its form alone, with no look-up, so no answer depends on whether it exists.
    if (isWellFormedCredential(req.token, PAT_PREFIX))
      throw new PortcullisError(
        'UNSUPPORTED_TOKEN_TYPE',
        'A personal access token is not revoked here: delete it with DELETE /api/v1/users/me/tokens/{tokenOrName}',
      );
    if (isWellFormedCredential(req.token, API_KEY_PREFIX)) {
      await this.refuseOwnLiveApiKey(req.token, client.clientId);
      return { revoked: false };
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

  /**
   * An API key is deleted (DELETE /api/v1/clients/{id}/api-keys/{keyId}), not revoked here. To the
   * client that holds it, live, the 200 of RFC 7009 §2.2 would say it is gone while it keeps
   * working: §2.2.1's unsupported_token_type instead. Anyone else's key, an expired or a deleted
   * one answers 200 like any token this client cannot revoke or that is no longer valid.
   */
  private async refuseOwnLiveApiKey(token: string, clientId: string): Promise<void> {
    const key = await this.apiKeys.findByHash(this.masterKey.hashSecret(token));
    if (!key || key.clientId !== clientId || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) return;
    throw new PortcullisError(
      'UNSUPPORTED_TOKEN_TYPE',
      'An API key is not revoked here: delete it with DELETE /api/v1/clients/{id}/api-keys/{keyId}',
    );
  }
}
