import { IgnoresUnknownFields } from '../errors/validation.pipe';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { MAX_INTROSPECTED_TOKEN } from '@portcullis/contracts';

/** RFC 7662 / RFC 7009 request body (client credentials may also come as Basic). */
@IgnoresUnknownFields()
export class TokenOperationDto {
  @IsString() @Length(1, MAX_INTROSPECTED_TOKEN) token!: string;
  @IsOptional() @IsString() @MaxLength(64) token_type_hint?: string;
  @IsOptional() @IsString() @Length(1, 128) client_id?: string;
  @IsOptional() @IsString() @Length(1, 512) client_secret?: string;
}
