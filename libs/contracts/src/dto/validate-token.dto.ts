import { RequirementList } from './fields';
import { IsIP, IsOptional, IsString, Length } from 'class-validator';
import { AccessTokenClaims } from '../claims';
import { WireError } from '../error-codes';

export class ValidateTokenRequestDto {
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

  /** Address of the end caller, when a gateway validates on its behalf (audits PAT use from new places). */
  /** The caller's caller, for the audit of a PAT used from a new address: an IP address, nothing else. */
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @IsIP()
  clientIp?: string;
}

export type ValidateTokenReply = { valid: true; claims: AccessTokenClaims } | { valid: false; error: WireError };
