import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Min } from 'class-validator';
import { TokenData } from './auth.dto';
import { toBoolean } from './query-transforms';
import {
  applyDecorators,
  BearerField,
  IsSecondsOrDateTime,
  PageCursor,
  PageLimit,
  QueryStringList,
  WithAuth,
  NameList,
} from './fields';

const NAME = /^[A-Za-z0-9._:@-]+$/;

/** Every request made on behalf of a caller carries the caller's bearer; auth-core judges it. */
export class AuthenticatedRequestDto {
  @BearerField() auth!: string;
}

/** A query-string list of names (`?roles=a,b` or repeated), at most `max` of `maxLength` each. */
const QueryNameList = (max: number, maxLength: number): PropertyDecorator =>
  applyDecorators(IsOptional(), QueryStringList(NAME, max), Length(1, maxLength, { each: true }));

/** What selects tokens, for the listings and for `DELETE /tokens/all` alike. */
export class TokenFilterQueryDto {
  @QueryNameList(16, 64) roles?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  exclude_expired?: boolean;
}

export class ListTokensQueryDto extends TokenFilterQueryDto {
  @IsOptional()
  @PageLimit()
  limit?: number;

  @IsOptional()
  @PageCursor()
  cursor?: string;
}

export class ListAllTokensQueryDto extends ListTokensQueryDto {
  @QueryNameList(50, 128) client_ids?: string[];
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

/** `POST /tokens` as the gateway takes it: the client also as `clientId`, as the login and extended tokens name it. */
export class CreateTokenBodyDto extends CreateTokenDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(NAME)
  clientId?: string;
}

export class ExtendedTokenDto {
  @IsString()
  @Length(1, 128)
  @Matches(NAME)
  clientId!: string;

  /** Seconds from now, or the moment the token expires (ISO-8601); capped at EXTENDED_TOKEN_MAX_TTL. */
  @IsSecondsOrDateTime()
  expiry!: number | string;
}

export class TokenIdParamDto {
  @IsUUID() tid!: string;
}

/**
 * `DELETE /tokens/all`: the listing's filters, so "revoke all of these" revokes exactly what
 * `GET /tokens/all` with the same query lists (paging aside); no filter: every token.
 */
export class RevokeAllTokensQueryDto extends TokenFilterQueryDto {
  @QueryNameList(50, 128) client_ids?: string[];
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
