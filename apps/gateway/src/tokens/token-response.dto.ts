import { ApiProperty } from '@nestjs/swagger';
import { CountReply, CreatedTokenReply, TOKEN_TYPES, TokenData } from '@portcullis/contracts';
import { PageOf } from '../docs/page-of';

/**
 * Reply shapes of the token registry, for the OpenAPI document only: the wire shapes are the
 * contracts' interfaces, which each class implements so the two cannot drift apart.
 */
export class TokenDataDto implements TokenData {
  @ApiProperty({ format: 'uuid', description: 'Token id (the JWT `jti`)' })
  tid!: string;

  @ApiProperty({ description: 'Client the token belongs to' })
  cid!: string;

  @ApiProperty({ description: 'Client that requested it' })
  rcid!: string;

  @ApiProperty({ description: 'Roles' })
  r!: string[];

  @ApiProperty({ format: 'date-time', description: 'Created' })
  cts!: string;

  @ApiProperty({ format: 'date-time', description: 'Expires' })
  ets!: string;

  @ApiProperty({ enum: TOKEN_TYPES })
  typ!: string;

  revoked!: boolean;

  @ApiProperty({ description: 'User id or client id the token speaks for' })
  sub!: string;
}

export class TokenDataPageDto extends PageOf(TokenDataDto) {}

/** `POST /tokens`: the token itself (shown once) beside its record. */
export class CreatedTokenDto extends TokenDataDto implements CreatedTokenReply {
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds' })
  expires_in!: number;

  roles!: string[];
}

export class CountDto implements CountReply {
  @ApiProperty({ description: 'How many were revoked' })
  count!: number;
}

/** auth-core's CleanupReply (not in the contracts: only this route answers it). */
export class CleanupDto implements CountReply {
  @ApiProperty({ description: 'Everything purged' })
  count!: number;

  accessTokens!: number;
  refreshTokens!: number;

  @ApiProperty({ description: 'Deleted PATs and API keys past their expiry' })
  deletedCredentials!: number;
}
