import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IntrospectionReply, TOKEN_TYPES, TokenReply } from '@portcullis/contracts';

/** RFC 6749 §5.1 access token response (the native replies' `tid` is not part of it). */
export class OAuthTokenResponseDto implements Omit<TokenReply, 'tid'> {
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds' })
  expires_in!: number;

  @ApiPropertyOptional({ description: 'password and refresh_token grants' })
  refresh_token?: string;

  @ApiPropertyOptional({
    description:
      'The scope granted, space-separated (RFC 6749 §3.3): when the token is narrowed to one, or (token exchange) when what was granted differs from the scope asked',
  })
  scope?: string;

  roles!: string[];

  @ApiPropertyOptional({
    description: 'Token exchange only (RFC 8693): urn:ietf:params:oauth:token-type:access_token',
  })
  issued_token_type?: string;
}

/** RFC 7662 §2.2: an inactive, unknown or foreign token is `{"active": false}` and nothing else. */
export class IntrospectionDto implements IntrospectionReply {
  active!: boolean;
  sub?: string;

  @ApiPropertyOptional({ description: 'For a token whose subject is a user' })
  username?: string;

  client_id?: string;

  @ApiPropertyOptional({ description: 'Permissions (or roles), space-separated' })
  scope?: string;

  exp?: number;
  iat?: number;
  nbf?: number;
  iss?: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  aud?: string | string[];

  @ApiPropertyOptional({ enum: ['Bearer', 'refresh_token'] })
  token_type?: string;

  jti?: string;
  roles?: string[];
  tenants?: string[];

  @ApiPropertyOptional({ enum: TOKEN_TYPES })
  typ?: string;
}
