import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AccessTokenClaims,
  LoginReply,
  MeReply,
  TOKEN_TYPES,
  TokenReply,
  TokenType,
  ValidateTokenReply,
} from '@portcullis/contracts';
import { TokenDataDto } from '../tokens/token-response.dto';
import { UserViewDto } from '../users/user-response.dto';

/** Reply shapes of the native auth routes, for the OpenAPI document; each implements its contract. */
export class TokenReplyDto implements TokenReply {
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds' })
  expires_in!: number;

  @ApiPropertyOptional({ description: 'Where one is issued (login, refresh): `pcl_rt_…`, rotated on each use' })
  refresh_token?: string;

  roles!: string[];

  @ApiProperty({ format: 'uuid', description: 'Token id (the JWT `jti`)' })
  tid!: string;
}

export class LoginReplyDto extends TokenReplyDto implements LoginReply {
  @ApiProperty({ format: 'uuid' })
  userId!: string;

  @ApiProperty({ description: 'Still the initial password: a UI should ask for a new one' })
  passwordWasNeverChanged!: boolean;
}

export class MeReplyDto extends TokenDataDto implements MeReply {
  @ApiProperty({ type: String, nullable: true, description: "null for a client's token" })
  username!: string | null;

  tenants!: string[];

  @ApiPropertyOptional({
    description: 'The permissions a narrowed token kept (PATs, API keys, scoped tokens); absent when not narrowed',
  })
  perms?: string[];

  @ApiProperty({ description: 'Seconds left' })
  expiresIn!: number;

  @ApiProperty({ type: UserViewDto, nullable: true, description: "null for a client's token" })
  user!: UserViewDto | null;

  @ApiProperty({ format: 'date-time', description: 'The same instant as `ets`' })
  expiry!: string;
}

/** The claims of an access token (SPEC §3). */
export class AccessTokenClaimsDto implements AccessTokenClaims {
  iss!: string;
  sub!: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  aud!: string | string[];

  iat!: number;
  exp!: number;
  nbf?: number;

  @ApiProperty({ format: 'uuid' })
  jti!: string;

  cid!: string;
  rcid!: string;

  @ApiProperty({ enum: TOKEN_TYPES })
  typ!: TokenType;

  roles!: string[];
  tenants!: string[];

  @ApiPropertyOptional({ description: 'Present when the token is narrowed to some permissions (PATs, API keys)' })
  perms?: string[];

  @ApiPropertyOptional({ description: 'Refresh-token family' })
  fam?: string;
}

/** A valid token's answer; an invalid one is a 401 or 403 error, so `valid` is always true here. */
export class ValidTokenDto implements Extract<ValidateTokenReply, { valid: true }> {
  @ApiProperty({ enum: [true] })
  valid!: true;

  claims!: AccessTokenClaimsDto;
}
