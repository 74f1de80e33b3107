import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Min,
} from 'class-validator';
import { TokenData } from './auth.dto';
import { toBoolean, toList } from './query-transforms';
import { BearerField, PageCursor, PageLimit, WithAuth, NameList } from './fields';

const NAME = /^[A-Za-z0-9._:@-]+$/;

/** Every request made on behalf of a caller carries the caller's bearer; auth-core judges it. */
export class AuthenticatedRequestDto {
  @BearerField() auth!: string;
}

export class ListTokensQueryDto {
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  @Matches(NAME, { each: true })
  roles?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  exclude_expired?: boolean;

  @IsOptional()
  @PageLimit()
  limit?: number;

  @IsOptional()
  @PageCursor()
  cursor?: string;
}

export class ListAllTokensQueryDto extends ListTokensQueryDto {
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  @Matches(NAME, { each: true })
  client_ids?: string[];
}

export class CreateTokenDto {
  /** Mint for this client instead of the caller (needs `tokens:admin`). */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(NAME)
  client_id?: string;

  /** A subset of what the target holds; defaults to all of it. */
  @IsOptional()
  @NameList()
  roles?: string[];

  /** Lifetime in seconds, capped by the target's maxTokenLifetime and TOKEN_MAX_TTL. */
  @IsOptional()
  @IsInt()
  @Min(1)
  token_life?: number;
}

export class ExtendedTokenDto {
  @IsString()
  @Length(1, 128)
  @Matches(NAME)
  clientId!: string;

  @IsInt()
  @Min(1)
  expiry!: number;
}

export class TokenIdParamDto {
  @IsUUID() tid!: string;
}

/**
 * `DELETE /tokens/all`: the listing's filters, so "revoke all of these" revokes exactly what
 * `GET /tokens/all` with the same query lists (paging aside); no filter: every token.
 */
export class RevokeAllTokensQueryDto {
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  @Matches(NAME, { each: true })
  roles?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  exclude_expired?: boolean;

  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  @Matches(NAME, { each: true })
  client_ids?: string[];
}

export class ListTokensRequest extends WithAuth(ListAllTokensQueryDto) {}
export class RevokeAllTokensRequest extends WithAuth(RevokeAllTokensQueryDto) {}
export class CreateTokenRequest extends WithAuth(CreateTokenDto) {}
export class ExtendedTokenRequest extends WithAuth(ExtendedTokenDto) {}
export class TokenIdRequest extends WithAuth(TokenIdParamDto) {}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CreatedTokenReply extends TokenData {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  roles: string[];
}

export interface CountReply {
  count: number;
}
