import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IntrospectionReply, IntrospectRequest, permissionsOf, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { REFRESH_TOKEN_PREFIX } from '../tokens/token-issuer.service';
import { TokenValidationService, unlessUnavailable } from '../tokens/token-validation.service';
import { ClientAuthenticatorService } from './client-authenticator.service';

const INACTIVE: IntrospectionReply = { active: false };

/**
 * RFC 7662. A client may introspect the tokens issued to it; tokens of other clients only when
 * it holds `token:validate` (a resource server). Anything else is simply `active: false`.
 *
 * A token past its `exp` is inactive here at once, though validation accepts it for CLOCK_SKEW
 * more (SPEC §3): the skew covers verifiers whose clocks differ from the issuer's, and here the
 * issuer answers on its own clock — RFC 7662 §2.2 calls a token active only if it "has not expired".
 */
@Controller()
export class IntrospectHandler {
  constructor(
    private readonly authenticator: ClientAuthenticatorService,
    private readonly validation: TokenValidationService,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  @MessagePattern(SUBJECTS.OAUTH_INTROSPECT)
  async handle(@Payload() payload: unknown): Promise<IntrospectionReply> {
    const req = validatePayload(IntrospectRequest, payload);
    const client = await this.authenticator.authenticate(req.client_id, req.client_secret);
    const mayValidateOthers = permissionsOf(client.roles).includes('token:validate');
    const mine = (cid: string, sub: string) => cid === client.clientId || sub === client.clientId;

    if (req.token.startsWith(REFRESH_TOKEN_PREFIX)) {
      const rt = await this.refreshTokens.findActive(req.token);
      if (!rt || (!mine(rt.cid, rt.userId) && !mayValidateOthers)) return INACTIVE;
      return {
        active: true,
        token_type: 'refresh_token',
        sub: rt.userId,
        client_id: rt.cid,
        exp: Math.floor(rt.expiresAt.getTime() / 1000),
        iat: Math.floor(rt.createdAt.getTime() / 1000),
      };
    }
    const result = unlessUnavailable(await this.validation.validate(req.token));
    if (!result.valid) return INACTIVE;
    const c = result.claims;
    if (c.exp * 1000 <= Date.now()) return INACTIVE;
    if (!mine(c.cid, c.sub) && !mayValidateOthers) return INACTIVE;
    return {
      active: true,
      sub: c.sub,
      client_id: c.cid,
      scope: (c.perms ?? c.roles).join(' '),
      exp: c.exp,
      iat: c.iat,
      iss: c.iss,
      aud: c.aud,
      token_type: 'Bearer',
      jti: c.jti,
      roles: c.roles,
      tenants: c.tenants,
      typ: c.typ,
    };
  }
}
