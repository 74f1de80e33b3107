import { Transform } from 'class-transformer';
import { toList } from '@portcullis/contracts';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length } from 'class-validator';

export class ValidateQueryDto {
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  roles?: string[];

  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  permissions?: string[];

  @IsOptional()
  @IsString()
  @Length(1, 128)
  tenant?: string;
}
