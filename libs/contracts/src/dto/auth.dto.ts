import { IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import type { UserView } from './users.dto';

/** Bounded lengths keep a 1 MB password from ever reaching argon2. */
export const MAX_PASSWORD_LENGTH = 1024;

export class LoginRequestDto {
  @IsString()
  @Length(1, 128)
  username!: string;

  @IsString()
  @Length(1, MAX_PASSWORD_LENGTH)
  password!: string;

  /** Log in on behalf of this client: the token's `cid` becomes it (must exist and be enabled). */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  clientId?: string;

  /**
   * The client's secret, when the client authenticates (the OAuth password grant with
   * client_secret_basic/post): a wrong one fails the login as UNAUTHENTICATED, before the password.
   */
  @IsOptional()
  @IsString()
  @Length(1, 512)
  clientSecret?: string;
}

export class RefreshRequestDto {
  @IsString()
  @Length(16, 512)
  refresh_token!: string;

  /** RFC 6749 §6: a client that authenticates may only refresh tokens issued to it. */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  client_id?: string;

  @IsOptional()
  @IsString()
  @Length(1, 512)
  client_secret?: string;
}

/**
 * The bodies of `POST /auth/login` and `POST /auth/refresh` as the gateway takes them: the client
 * fields in either spelling, the login's (`clientId`) or OAuth's (`client_id`). The gateway passes
 * auth-core the spelling of its payload (above).
 */
export class LoginBodyDto extends LoginRequestDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  client_id?: string;

  @IsOptional()
  @IsString()
  @Length(1, 512)
  client_secret?: string;
}

export class RefreshBodyDto extends RefreshRequestDto {
  @IsOptional()
  @IsString()
  @Length(1, 128)
  clientId?: string;

  @IsOptional()
  @IsString()
  @Length(1, 512)
  clientSecret?: string;
}

/**
 * The NATS payloads of `auth.v1.login` and `auth.v1.token.refresh`: the native bodies plus the OAuth
 * grants' `scope` (RFC 6749 §3.3), which narrows the session's tokens. The native routes take no scope.
 */
export class PasswordGrantRequest extends LoginRequestDto {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;
}

export class RefreshGrantRequest extends RefreshRequestDto {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;
}

export class LogoutRequestDto {
  @IsString()
  @MaxLength(8192)
  token!: string;
}

/** The body of `POST /auth/logout`: clients often send the session's refresh token along. */
export class LogoutBodyDto {
  @IsOptional()
  @IsString()
  @Length(16, 512)
  refresh_token?: string;
}

export class LogoutSessionRequestDto extends LogoutRequestDto {
  @IsOptional()
  @IsString()
  @Length(16, 512)
  refresh_token?: string;
}

export class TokenIdDto {
  @IsUUID()
  tid!: string;
}

export interface TokenReply {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  roles: string[];
  /** The scope granted, space-separated, when the token is narrowed to one (RFC 6749 §3.3). */
  scope?: string;
  tid: string;
}

export interface LoginReply extends TokenReply {
  userId: string;
  passwordWasNeverChanged: boolean;
}

/** Token data as listed and shown by `/auth/me` (SPEC §4): timestamps as ISO-8601. */
export interface TokenData {
  tid: string;
  cid: string;
  rcid: string;
  r: string[];
  cts: string;
  ets: string;
  typ: string;
  revoked: boolean;
  sub: string;
}

export interface MeReply extends TokenData {
  username: string | null;
  tenants: string[];
  /**
   * The permissions a narrowed token kept (a PAT, an API key's bearer, a scoped token): what it may
   * do, which its roles (`r`) no longer say. Absent for a token that is its roles' whole.
   */
  perms?: string[];
  expiresIn: number;
  /** The user the token speaks for (SPEC §4 "user"); null for a client's token. */
  user: UserView | null;
  /** When the token expires (SPEC §4 "expiry"): the same instant as `ets`. */
  expiry: string;
}
