import { Transform } from 'class-transformer';
import { toList } from '@portcullis/contracts';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsOptional, IsString, Length } from 'class-validator';

/**
 * Given, a list names at least one value: `?roles=` (a service's empty variable) read as no
 * requirement at all let every valid token through where the POST and NATS refuse the empty name.
 */
const NOT_EMPTY = { message: '$property must name at least one value (leave it out to require none)' };

export class ValidateQueryDto {
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayNotEmpty(NOT_EMPTY)
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  roles?: string[];

  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayNotEmpty(NOT_EMPTY)
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  permissions?: string[];

  @IsOptional()
  @IsString()
  @Length(1, 128)
  tenant?: string;
}
