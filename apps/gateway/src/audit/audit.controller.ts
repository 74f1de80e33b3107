import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditEvent, ListAuditQueryDto, Page, SUBJECTS } from '@portcullis/contracts';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { AuditEventPageDto } from './audit-response.dto';

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly core: CoreClientService) {}

  @Get()
  @ApiOperation({ summary: 'Audit events (audit:read): logins, tokens issued/revoked, clients and users changed…' })
  @ApiOkResponse({ type: AuditEventPageDto })
  list(
    @Query() q: ListAuditQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<AuditEvent>> {
    return this.core.request(SUBJECTS.AUDIT_LIST, { ...q, auth: p.token }, rid);
  }
}
