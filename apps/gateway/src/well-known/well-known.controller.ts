import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { JwksReply, MetaReply, SUBJECTS } from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { CLIENT_AUTH_METHODS, SUPPORTED_GRANT_TYPES } from '../oauth/oauth.controller';
import { SUBJECT_TOKEN_TYPES } from '../oauth/token-exchange.grant';
import { JwksDto, OAuthServerMetadataDto, OpenIdConfigurationDto } from './discovery-response.dto';

/** RFC 8414 / OpenID discovery and the JWKS, all describing auth-core's actual configuration. */
@ApiTags('discovery')
@Controller('.well-known')
export class WellKnownController {
  constructor(private readonly core: CoreClientService) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOkResponse({ type: JwksDto })
  jwks(): Promise<JwksReply> {
    return this.core.request(SUBJECTS.KEYS_JWKS, {});
  }

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ type: OAuthServerMetadataDto, description: 'RFC 8414' })
  async oauthMetadata(): Promise<OAuthServerMetadataDto> {
    return this.metadata(await this.core.request<MetaReply>(SUBJECTS.META, {}));
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ type: OpenIdConfigurationDto, description: 'OpenID Connect Discovery 1.0' })
  async openidConfiguration(): Promise<OpenIdConfigurationDto> {
    const meta = await this.core.request<MetaReply>(SUBJECTS.META, {});
    return {
      ...this.metadata(meta),
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: meta.signingAlgorithms,
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'cid', 'rcid', 'typ', 'roles', 'tenants', 'perms'],
    };
  }

  // Typed as the documented shapes, so a field added here cannot be left out of the OpenAPI document.
  private metadata(meta: MetaReply): OAuthServerMetadataDto {
    const base = meta.issuer.replace(/\/+$/, '');
    return {
      issuer: meta.issuer,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: [...SUPPORTED_GRANT_TYPES],
      // RFC 8414 requires the field; with no authorization endpoint there is no response type.
      response_types_supported: [],
      introspection_endpoint: `${base}/oauth/introspect`,
      revocation_endpoint: `${base}/oauth/revoke`,
      token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      // Not every value a principal may hold (any role name is one), as RFC 8414 §2 allows.
      ...(meta.scopes ? { scopes_supported: meta.scopes } : {}),
      access_token_signing_alg_values_supported: meta.signingAlgorithms,
      service_documentation: `${base}/docs`,
      // Not registered in RFC 8414 (none is for RFC 8693): how a client learns the API-key token type.
      token_exchange_subject_token_types_supported: [...SUBJECT_TOKEN_TYPES],
    };
  }
}
