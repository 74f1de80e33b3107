import { Body, Controller, Header, Headers, HttpCode, Ip, Post, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IntrospectionReply, SUBJECTS, TokenReply } from '@portcullis/contracts';
import { RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { readClientAuth } from './client-auth';
import { ClientCredentialsGrant } from './client-credentials.grant';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { UnsupportedGrantType } from './oauth-error';
import { PasswordGrant } from './password.grant';
import { RefreshTokenGrant } from './refresh-token.grant';
import { TokenOperationDto } from './introspection.dto';
import { IntrospectionDto, OAuthTokenResponseDto } from './oauth-response.dto';
import { TOKEN_EXCHANGE_GRANT, TokenExchangeGrant } from './token-exchange.grant';
import { TokenRequestDto } from './token-request.dto';
import { DocumentedErrors, THROTTLED } from '../docs/documented-errors.decorator';

export const SUPPORTED_GRANT_TYPES = ['password', 'client_credentials', 'refresh_token', TOKEN_EXCHANGE_GRANT] as const;
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

interface Grant {
  execute(
    req: TokenRequestDto,
    rid: string,
    authorization?: string,
    ip?: string,
  ): Promise<TokenReply & { scope?: string; issued_token_type?: string }>;
}

@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthExceptionFilter)
export class OAuthController {
  private readonly grants: Record<string, Grant>;

  constructor(
    private readonly core: CoreClientService,
    password: PasswordGrant,
    refresh: RefreshTokenGrant,
    clientCredentials: ClientCredentialsGrant,
    tokenExchange: TokenExchangeGrant,
  ) {
    this.grants = Object.fromEntries([password, refresh, clientCredentials, tokenExchange].map((g) => [g.type, g]));
  }

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({ summary: 'OAuth 2 token endpoint (RFC 6749)' })
  @DocumentedErrors({ 429: THROTTLED })
  @ApiOkResponse({ type: OAuthTokenResponseDto })
  async token(
    @Body() body: TokenRequestDto,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @RequestId() rid: string,
  ) {
    const grant = Object.hasOwn(this.grants, body.grant_type) ? this.grants[body.grant_type] : undefined;
    if (!grant) throw new UnsupportedGrantType(body.grant_type);
    const r = await grant.execute(body, rid, authorization, ip);
    return {
      access_token: r.access_token,
      token_type: r.token_type,
      expires_in: r.expires_in,
      ...(r.refresh_token ? { refresh_token: r.refresh_token } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      roles: r.roles,
      ...(r.issued_token_type ? { issued_token_type: r.issued_token_type } : {}),
    };
  }

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({ summary: 'Token introspection (RFC 7662), client-authenticated' })
  @ApiOkResponse({ type: IntrospectionDto })
  introspect(
    @Body() body: TokenOperationDto,
    @Headers('authorization') authorization: string | undefined,
    @RequestId() rid: string,
  ): Promise<IntrospectionReply> {
    const { client_id, client_secret } = readClientAuth(authorization, body);
    return this.core.request(
      SUBJECTS.OAUTH_INTROSPECT,
      {
        client_id,
        client_secret,
        token: body.token,
        ...(body.token_type_hint ? { token_type_hint: body.token_type_hint } : {}),
      },
      rid,
    );
  }

  /** RFC 7009: 200 with an empty body whether or not the token was known. */
  @Post('revoke')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({ summary: 'Token revocation (RFC 7009), client-authenticated' })
  @ApiOkResponse({
    description: 'Revoked, or the token was unknown or already invalid: an empty body either way (RFC 7009 §2.2)',
  })
  async revoke(
    @Body() body: TokenOperationDto,
    @Headers('authorization') authorization: string | undefined,
    @RequestId() rid: string,
  ): Promise<void> {
    const { client_id, client_secret } = readClientAuth(authorization, body);
    await this.core.request(
      SUBJECTS.OAUTH_REVOKE,
      {
        client_id,
        client_secret,
        token: body.token,
        ...(body.token_type_hint ? { token_type_hint: body.token_type_hint } : {}),
      },
      rid,
    );
  }
}
