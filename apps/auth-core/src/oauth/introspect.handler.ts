import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IntrospectionReply, IntrospectRequest, permissionsOf, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { ClientEntity } from '../clients/client.entity';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { REFRESH_TOKEN_PREFIX } from '../tokens/token-issuer.service';
import { TokenValidationService, unlessUnavailable } from '../tokens/token-validation.service';
import { userIdOf } from '../tokens/token-subject';
import { UsersRepository } from '../users/users.repository';
import { ClientAuthenticatorService } from './client-authenticator.service';
import { holdsScope } from './scope-narrowing';

const INACTIVE: IntrospectionReply = { active: false };

/**
 * RFC 7662. A client may introspect the access tokens issued to it; those of other clients (and
 * PATs, which are bearers too) only when it holds `token:validate` (a resource server). A refresh
 * token only ever goes back to the client it was issued to, never to a resource server, so only
 * that client may introspect it (§2.2: "not allowed to introspect this particular token"). An API
 * key is not a bearer anywhere (it is exchanged at /oauth/token), so it is never active here.
 * Anything else is simply `active: false`.
 *
 * A token past its `exp` is inactive here at once, though validation accepts it for CLOCK_SKEW
 * more (SPEC §3): the skew covers verifiers whose clocks differ from the issuer's, and here the
 * issuer answers on its own clock — RFC 7662 §2.2 calls a token active only if it "has not expired".
 */
@Controller()
export class IntrospectHandler {
  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly authenticator: ClientAuthenticatorService,
    private readonly validation: TokenValidationService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly users: UsersRepository,
  ) {}

  @MessagePattern(SUBJECTS.OAUTH_INTROSPECT)
  async handle(@Payload() payload: unknown): Promise<IntrospectionReply> {
    const req = validatePayload(IntrospectRequest, payload);
    const client = await this.authenticator.authenticate(req.client_id, req.client_secret);
    if (req.token.startsWith(REFRESH_TOKEN_PREFIX)) return this.refreshToken(req.token, client);

    const result = unlessUnavailable(await this.validation.validate(req.token));
    if (!result.valid) return INACTIVE;
    const c = result.claims;
    if (c.exp * 1000 <= Date.now()) return INACTIVE;
    const mine = c.cid === client.clientId || c.sub === client.clientId;
    if (!mine && !permissionsOf(client.roles).includes('token:validate')) return INACTIVE;
    const userId = userIdOf(c);
    const username = userId ? (await this.users.findById(userId))?.username : undefined;
    return {
      active: true,
      sub: c.sub,
      ...(username ? { username } : {}),
      client_id: c.cid,
      scope: (c.perms ?? c.roles).join(' '),
      exp: c.exp,
      iat: c.iat,
      // Not valid before it was issued: the token carries no nbf of its own.
      nbf: c.nbf ?? c.iat,
      iss: c.iss,
      aud: c.aud,
      token_type: 'Bearer',
      jti: c.jti,
      roles: c.roles,
      tenants: c.tenants,
      typ: c.typ,
    };
  }

  /** Active as the refresh grant would take it: unused, unrevoked, unexpired, its user enabled. */
  private async refreshToken(token: string, client: ClientEntity): Promise<IntrospectionReply> {
    const rt = await this.refreshTokens.findActive(token);
    if (!rt || rt.cid !== client.clientId) return INACTIVE;
    const user = await this.users.findById(rt.userId);
    if (!user?.enabled) return INACTIVE;
    // What a refresh would grant: the session's original scope less what the user lost since (none
    // left: the refresh is refused), or everything the user holds.
    const scope = rt.scope ? rt.scope.filter((s) => holdsScope(user.roles, s)) : user.roles;
    if (rt.scope && !scope.length) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: scope.join(' '),
      sub: rt.userId,
      username: user.username,
      client_id: rt.cid,
      exp: Math.floor(rt.expiresAt.getTime() / 1000),
      iat: Math.floor(rt.createdAt.getTime() / 1000),
      iss: this.config.ISSUER,
    };
  }
}
