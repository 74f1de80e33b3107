import { IgnoresUnknownFields } from '../errors/validation.pipe';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { MAX_PASSWORD_LENGTH } from '@portcullis/contracts';

/**
 * Every parameter any supported grant takes; which ones a grant needs is checked by the grant.
 * Standard OAuth clients send parameters like `scope` and `client_id` freely, so they are known.
 */
@IgnoresUnknownFields()
export class TokenRequestDto {
  @IsString() @Length(1, 128) grant_type!: string;
  @IsOptional() @IsString() @Length(1, 128) username?: string;
  @IsOptional() @IsString() @Length(1, MAX_PASSWORD_LENGTH) password?: string;
  @IsOptional() @IsString() @Length(1, 512) refresh_token?: string;
  @IsOptional() @IsString() @Length(1, 128) client_id?: string;
  @IsOptional() @IsString() @Length(1, 512) client_secret?: string;
  @IsOptional() @IsString() @MaxLength(1024) scope?: string;
  @IsOptional() @IsString() @MaxLength(8192) subject_token?: string;
  @IsOptional() @IsString() @MaxLength(256) subject_token_type?: string;
  @IsOptional() @IsString() @MaxLength(256) requested_token_type?: string;
  @IsOptional() @IsString() @MaxLength(8192) actor_token?: string;
  @IsOptional() @IsString() @MaxLength(256) actor_token_type?: string;
  @IsOptional() @IsString() @MaxLength(1024) audience?: string;
}
