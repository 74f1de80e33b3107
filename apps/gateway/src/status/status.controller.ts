import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { StatusReply, SUBJECTS } from '@portcullis/contracts';
import { serviceVersion } from '@portcullis/observability';
import { CoreClientService } from '../core/core-client.service';
import { StatusResponseDto } from './status-response.dto';

const VERSION = serviceVersion();

@ApiTags('status')
@Controller('api/v1/status')
export class StatusController {
  constructor(private readonly core: CoreClientService) {}

  /** Always answers: an unreachable auth-core is reported, not turned into an error. */
  @Get()
  @ApiOkResponse({ type: StatusResponseDto })
  async status(): Promise<StatusResponseDto> {
    let core: StatusReply | null = null;
    try {
      core = await this.core.request<StatusReply>(SUBJECTS.STATUS, {});
    } catch {
      core = null;
    }
    return {
      name: 'portcullis',
      version: VERSION,
      auth_provider_initialized: core?.auth_provider_initialized ?? false,
      auth_db_initialized: core?.auth_db_initialized ?? false,
      nats: { state: this.core.natsState() },
      auth_core: core ? { reachable: true, version: core.version, database: core.database } : { reachable: false },
    };
  }
}
