import { ApiProperty } from '@nestjs/swagger';
import { AuditEvent } from '@portcullis/contracts';
import { PageOf } from '../docs/page-of';

export class AuditEventDto implements AuditEvent {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'login.failed' })
  type!: string;

  @ApiProperty({ type: String, nullable: true, description: 'User id or client id that acted' })
  actor!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'What was acted on (a user, client, token…)' })
  subject!: string | null;

  success!: boolean;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Details, by event type' })
  data!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  at!: string;
}

export class AuditEventPageDto extends PageOf(AuditEventDto) {}
