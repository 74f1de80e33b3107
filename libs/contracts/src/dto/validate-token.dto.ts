import { RequirementList } from './fields';
import { IsIP, IsOptional, IsString, Length } from 'class-validator';
import { AccessTokenClaims } from '../claims';
import { WireError } from '../error-codes';

/**
 * `POST /api/v1/auth/validate`: what a caller may say. The caller's address is not among it: the
 * gateway adds the one it sees (ValidateTokenRequestDto), or anyone could write audit records for
 * an address of their choosing.
 */
export class ValidateTokenDto {
  @IsString()
  @Length(1, 8192)
  token!: string;

  @IsOptional()
  @RequirementList()
  roles?: string[];

  @IsOptional()
  @RequirementList()
  permissions?: string[];

  @IsOptional()
  @IsString()
  @Length(1, 128)
  tenant?: string;
}

/** NATS payload of `auth.v1.token.validate`. */
export class ValidateTokenRequestDto extends ValidateTokenDto {
  /** The caller's caller, for the audit of a PAT used from a new address: an IP address, nothing else. */
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @IsIP()
  clientIp?: string;
}

export type ValidateTokenReply = { valid: true; claims: AccessTokenClaims } | { valid: false; error: WireError };
