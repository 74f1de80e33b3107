import { IgnoresUnknownFields } from '../errors/validation.pipe';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, TransformFnParams } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { MAX_PASSWORD_LENGTH } from '@portcullis/contracts';

/**
 * RFC 8693 §2.1: `audience` and `resource` may each be sent several times (the only parameters
 * exempt from RFC 6749 §3.2's "not more than once"); one value is a list of one, and an empty one
 * is omitted (RFC 6749 §3.1).
 */
const targetList = ({ value }: TransformFnParams): unknown =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v) => v !== '') : value;

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
  @ApiPropertyOptional({ type: [String], description: 'RFC 8693 token exchange: may be repeated' })
  @IsOptional()
  @Transform(targetList)
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(1024, { each: true })
  audience?: string[];
  @ApiPropertyOptional({ type: [String], description: 'RFC 8693 token exchange (RFC 8707): may be repeated' })
  @IsOptional()
  @Transform(targetList)
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(1024, { each: true })
  resource?: string[];
}
