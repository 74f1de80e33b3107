import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JwksReply } from '@portcullis/contracts';

/** RFC 8414 authorization server metadata, as this gateway publishes it. */
export class OAuthServerMetadataDto {
  issuer!: string;
  token_endpoint!: string;
  jwks_uri!: string;
  grant_types_supported!: string[];
  response_types_supported!: string[];
  introspection_endpoint!: string;
  revocation_endpoint!: string;
  token_endpoint_auth_methods_supported!: string[];
  introspection_endpoint_auth_methods_supported!: string[];
  revocation_endpoint_auth_methods_supported!: string[];

  @ApiPropertyOptional({
    description:
      'Scope values /oauth/token narrows a token by: each permission and each role of the role map (a role a principal holds outside it is one too)',
  })
  scopes_supported?: string[];
  access_token_signing_alg_values_supported!: string[];
  service_documentation!: string;

  @ApiProperty({ description: 'Not registered in RFC 8414: the subject token types the token exchange grant takes' })
  token_exchange_subject_token_types_supported!: string[];
}

/** OpenID Connect discovery: the same metadata and what OpenID Connect adds. */
export class OpenIdConfigurationDto extends OAuthServerMetadataDto {
  subject_types_supported!: string[];
  id_token_signing_alg_values_supported!: string[];
  claims_supported!: string[];
}

export class JwksDto implements JwksReply {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Public JWKs (RFC 7517) with `kid`, `alg` and `use`: every key that still verifies tokens',
  })
  keys!: Array<Record<string, unknown>>;
}
