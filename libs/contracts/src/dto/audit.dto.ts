import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { Transform } from 'class-transformer';
import { CLIENT_ID_PATTERN } from './clients.dto';
import { IsDateTime, WithAuth } from './fields';
import { PageQueryDto } from './page-query.dto';
import { toBoolean } from './query-transforms';

export class ListAuditQueryDto extends PageQueryDto {
  /** Exact event type (`login.failed`) or a prefix ending in `.` (`token.`). */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_.]{1,64}$/)
  type?: string;

  /** A principal id (user id or client id): anything else, SQL included, is refused as bad input. */
  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: 'actor must be a user id or a client id' })
  actor?: string;

  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: 'subject must be a user id or a client id' })
  subject?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  success?: boolean;

  @IsOptional()
  @IsDateTime()
  since?: string;
}

export class ListAuditRequest extends WithAuth(ListAuditQueryDto) {}
