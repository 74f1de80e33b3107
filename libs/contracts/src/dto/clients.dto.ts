import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from './page-query.dto';
import { toBoolean } from './query-transforms';
import { Nullable } from '../validate-payload';
import { RoleFilter, RoleList, ROLE_PATTERN, TenantList, WithAuth } from './fields';

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The settings an administrator sets on a client, at creation or later. */
class ClientSettingsDto {
  @IsOptional()
  @RoleList()
  roles?: string[];

  @IsOptional()
  @TenantList()
  tenants?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;
}

export class CreateClientDto extends ClientSettingsDto {
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-128 of [A-Za-z0-9._:-], starting alphanumeric' })
  clientId!: string;

  @IsOptional()
  @IsInt()
  @Min(30)
  @Max(31536000)
  maxTokenLifetime?: number;
}

export class UpdateClientDto extends ClientSettingsDto {
  /** `null` removes the cap. */
  @Nullable()
  @IsOptional()
  @IsInt()
  @Min(30)
  @Max(31536000)
  maxTokenLifetime?: number | null;

  /** Issue a new secret (shown once in the reply); the old one stops working at once. */
  @IsOptional()
  @IsBoolean()
  rotateSecret?: boolean;
}

/** What a client may change about itself. */
export class UpdateOwnClientDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @IsOptional()
  @IsBoolean()
  rotateSecret?: boolean;
}

export class RegisterClientDto {
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: 'clientId must be 1-128 of [A-Za-z0-9._:-], starting alphanumeric' })
  clientId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;
}

export class ListClientsQueryDto extends PageQueryDto {
  @IsOptional()
  @RoleFilter()
  roles?: string[];
}

export class ClientIdParamDto {
  @IsString() @Matches(CLIENT_ID_PATTERN) clientId!: string;
}

export class ClientRoleParamDto extends ClientIdParamDto {
  @IsString() @Matches(ROLE_PATTERN) role!: string;
}

export class RevokeTokensQueryDto {
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  revoke_tokens?: boolean;
}

/** NATS payloads: the HTTP shapes plus the caller's bearer. */
export class CreateClientRequest extends WithAuth(CreateClientDto) {}
export class UpdateClientRequest extends WithAuth(UpdateClientDto) {
  @IsString() @Matches(CLIENT_ID_PATTERN) clientId!: string;
}
export class UpdateOwnClientRequest extends WithAuth(UpdateOwnClientDto) {}
export class RegisterClientRequest extends RegisterClientDto {
  /** Whatever bearer came, even none (''): auth-core answers "disabled" or "invalid", never a 400. */
  @IsString() @MaxLength(8192) registrationToken!: string;
}
export class ListClientsRequest extends WithAuth(ListClientsQueryDto) {}
export class ClientIdRequest extends WithAuth(ClientIdParamDto) {}
export class ClientRoleRequest extends ClientIdRequest {
  @IsOptional() @IsString() @Matches(ROLE_PATTERN) role?: string;
  @IsIn(['add', 'remove', 'clear']) action!: 'add' | 'remove' | 'clear';
  @IsOptional() @IsBoolean() revoke_tokens?: boolean;
}
export class ClientStateRequest extends ClientIdRequest {
  @IsBoolean() enabled!: boolean;
}

export interface ClientView {
  clientId: string;
  roles: string[];
  tenants: string[];
  enabled: boolean;
  description: string;
  maxTokenLifetime: number | null;
  createdBy: string | null;
  registered: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ClientWithSecret extends ClientView {
  client_secret: string;
}

/** OAuth client authentication as received by the token/introspection/revocation endpoints. */
export class ClientCredentialsDto {
  @IsString() @Length(1, 128) client_id!: string;
  @IsString() @Length(1, 512) client_secret!: string;
}

export class ClientCredentialsGrantRequest extends ClientCredentialsDto {
  @IsOptional() @IsString() @MaxLength(1024) scope?: string;
}

/**
 * Longest token introspection and revocation take. Beyond any token Portcullis issues (8192 is
 * the validate limit): a longer one is still a well-formed request about a token that is not
 * active (RFC 7662 §2.2: `{"active":false}`; RFC 7009 §2.2: 200), bounded by the body limit.
 */
export const MAX_INTROSPECTED_TOKEN = 65536;

export class IntrospectRequest extends ClientCredentialsDto {
  @IsString() @Length(1, MAX_INTROSPECTED_TOKEN) token!: string;
  @IsOptional() @IsString() @MaxLength(64) token_type_hint?: string;
}

export type RevokeRequest = IntrospectRequest;
export const RevokeRequest = IntrospectRequest;

export interface IntrospectionReply {
  active: boolean;
  sub?: string;
  /** The user's name, for a token whose subject is a user (RFC 7662 §2.2). */
  username?: string;
  client_id?: string;
  scope?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  token_type?: string;
  jti?: string;
  roles?: string[];
  tenants?: string[];
  typ?: string;
}
