import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { StatusReply } from '@portcullis/contracts';

class NatsStatusDto {
  @ApiProperty({ enum: ['connected', 'reconnecting', 'closed', 'not connected'] })
  state!: string;
}

/** What the gateway learnt from auth-core; only `reachable` when no replica answered. */
class AuthCoreStatusDto {
  reachable!: boolean;

  @ApiPropertyOptional({ description: 'When reachable' })
  version?: string;

  @ApiPropertyOptional({ enum: ['up', 'down'], description: 'When reachable' })
  database?: 'up' | 'down';
}

/** `GET /status` always answers 200: an unreachable auth-core is reported here, not as an error. */
export class StatusResponseDto implements Pick<
  StatusReply,
  'name' | 'version' | 'auth_provider_initialized' | 'auth_db_initialized'
> {
  @ApiProperty({ example: 'portcullis' })
  name!: string;

  @ApiProperty({ description: "The gateway's version" })
  version!: string;

  auth_provider_initialized!: boolean;
  auth_db_initialized!: boolean;
  nats!: NatsStatusDto;
  auth_core!: AuthCoreStatusDto;
}
