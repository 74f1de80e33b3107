import { IsBoolean, IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { Transform } from 'class-transformer';
import { MAX_PASSWORD_LENGTH } from './auth.dto';
import { PageQueryDto } from './page-query.dto';
import { toBoolean } from './query-transforms';
import {
  BearerField,
  IsDateTime,
  MAX_PATH_PARAM_LENGTH,
  NameList,
  RoleFilter,
  RoleList,
  TenantList,
  WithAuth,
} from './fields';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,127}$/;
/** Passwords of people: at least 12 characters (NIST SP 800-63B favours length over rules). */
export const MIN_PASSWORD_LENGTH = 12;

export class CreateUserDto {
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 1-128 of [A-Za-z0-9._@-], starting alphanumeric' })
  username!: string;

  @IsOptional()
  @IsString()
  @Length(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
  password?: string;

  @IsOptional()
  @RoleList()
  roles?: string[];

  @IsOptional()
  @TenantList()
  tenants?: string[];

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateUserDto {
  @IsOptional()
  @RoleList()
  roles?: string[];

  @IsOptional()
  @TenantList()
  tenants?: string[];

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** An administrator sets a new password (e.g. after credentials were removed). */
  @IsOptional()
  @IsString()
  @Length(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
  password?: string;
}

export class ChangePasswordDto {
  @IsString()
  @Length(1, MAX_PASSWORD_LENGTH)
  currentPassword!: string;

  @IsString()
  @Length(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)
  newPassword!: string;
}

/** A username prefix to search by: the characters local and federated (`provider:sub`) usernames use. */
const USERNAME_PREFIX_PATTERN = /^[A-Za-z0-9._@:-]{1,128}$/;

export class ListUsersQueryDto extends PageQueryDto {
  /** Usernames starting with this, case-insensitively. */
  @IsOptional()
  @IsString()
  @Matches(USERNAME_PREFIX_PATTERN, { message: 'username must be 1-128 of [A-Za-z0-9._@:-]' })
  username?: string;

  /** Users holding every role named. */
  @IsOptional()
  @RoleFilter()
  roles?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;
}

/** `GET /users/me/tokens` and `/users/{id}/tokens`: newest first, paged like every listing. */
export class ListPatsQueryDto extends PageQueryDto {}

export class UserIdParamDto {
  @IsUUID() id!: string;
}

export class CreatePatDto {
  @IsString()
  @Matches(NAME_PATTERN, { message: 'name must be 1-128 characters of [A-Za-z0-9 ._:-]' })
  name!: string;

  /** Absent: 30 days from now (within PAT_MAX_TTL_DAYS), as GitHub's token settings offer. */
  @IsOptional()
  @IsDateTime()
  expiresAt?: string;

  /** Absent: every permission the owner holds now (a subset may be named instead). */
  @IsOptional()
  @NameList()
  permissions?: string[];

  /** Absent: the owner's tenants. */
  @IsOptional()
  @TenantList()
  tenants?: string[];
}

export class TokenOrNameParamDto {
  @IsString() @Length(1, MAX_PATH_PARAM_LENGTH) tokenOrName!: string;
}

export class CreateApiKeyDto {
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'name must be 1-128 characters of [A-Za-z0-9 ._:-]' })
  name?: string;

  @IsOptional()
  @IsDateTime()
  expiresAt?: string;

  @IsOptional()
  @NameList()
  permissions?: string[];

  @IsOptional()
  @TenantList()
  tenants?: string[];
}

/** `GET /clients/{id}/api-keys`: newest first, paged like every listing. */
export class ListApiKeysQueryDto extends PageQueryDto {}

export class ApiKeyParamDto {
  @IsString() @Length(1, 128) clientId!: string;
  @IsUUID() keyId!: string;
}

export class ApiKeyExchangeDto {
  @IsString() @MaxLength(512) apiKey!: string;
}

/** NATS payloads. `userId` absent means "the caller" (the /users/me routes). */
export class UserTargetRequest {
  @BearerField() auth!: string;
  @IsOptional() @IsUUID() userId?: string;
}
export class CreateUserRequest extends WithAuth(CreateUserDto) {}
export class UpdateUserRequest extends WithAuth(UpdateUserDto) {
  @IsUUID() userId!: string;
}
export class ChangePasswordRequest extends WithAuth(ChangePasswordDto) {}
export class ListUsersRequest extends WithAuth(ListUsersQueryDto) {}
export class CreatePatRequest extends WithAuth(CreatePatDto) {
  @IsOptional() @IsUUID() userId?: string;
}
export class ListPatsRequest extends WithAuth(ListPatsQueryDto) {
  @IsOptional() @IsUUID() userId?: string;
}
export class DeletePatRequest extends WithAuth(TokenOrNameParamDto) {
  @IsOptional() @IsUUID() userId?: string;
}
export class CreateApiKeyRequest extends WithAuth(CreateApiKeyDto) {
  @IsString() @Length(1, 128) clientId!: string;
}
export class ListApiKeysRequest extends WithAuth(ListApiKeysQueryDto) {
  @IsString() @Length(1, 128) clientId!: string;
}
export class ClientApiKeysRequest {
  @BearerField() auth!: string;
  @IsString() @Length(1, 128) clientId!: string;
  @IsOptional() @IsUUID() keyId?: string;
}
export class ApiKeyExchangeRequest extends ApiKeyExchangeDto {
  @IsOptional() @IsString() @MaxLength(64) ip?: string;
  /** The OAuth client making a token exchange, when it authenticates: it must do so correctly. */
  @IsOptional() @IsString() @Length(1, 128) client_id?: string;
  @IsOptional() @IsString() @Length(1, 512) client_secret?: string;
}

export interface UserView {
  id: string;
  username: string;
  roles: string[];
  tenants: string[];
  enabled: boolean;
  source: 'local' | 'oidc';
  passwordChangedAt: string | null;
  hasPassword: boolean;
  lockedUntil: string | null;
  createdAt: string;
}

export interface PatView {
  id: string;
  name: string;
  expiresAt: string;
  createdAt: string;
  lastUsedAt: string | null;
  permissions: string[];
  tenants: string[];
}

export interface CreatedPat extends PatView {
  token: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  clientId: string;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  /** What the key's bearers may do: the key's own list, or the client's current one (followsClient). */
  permissions: string[];
  tenants: string[];
  /** True when the key was created without permissions or tenants: it follows the client's. */
  followsClient: boolean;
}

export interface CreatedApiKey extends ApiKeyView {
  apiKey: string;
}

export interface ApiKeyExchangeReply {
  token: string;
  expires_in: number;
  tid: string;
  /** The client's roles, which the token carries. */
  roles: string[];
}

/** The exact errors of API-key exchange (SPEC §4). */
export const API_KEY_ERRORS = {
  MALFORMED: 'Api Key Configuration is invalid. Request a new API-key or contact administrator',
  EXPIRED: 'Api Key has expired',
  UNKNOWN: 'Unauthenticated',
} as const;

export class UserPatParamDto {
  @IsUUID() id!: string;
  @IsString() @Length(1, MAX_PATH_PARAM_LENGTH) tokenOrName!: string;
}
