import { IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';

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
}

export class RefreshRequestDto {
  @IsString()
  @Length(16, 512)
  refresh_token!: string;
}

export class LogoutRequestDto {
  @IsString()
  @MaxLength(8192)
  token!: string;
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
  expiresIn: number;
}
