import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiKeyParamDto,
  ApiKeyView,
  ClientIdParamDto,
  CreateApiKeyDto,
  CreatedApiKey,
  ListApiKeysQueryDto,
  Page,
  SUBJECTS,
} from '@portcullis/contracts';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { ApiKeyPageDto, CreatedApiKeyDto } from './client-response.dto';
import { DocumentedErrors, TAKEN } from '../docs/documented-errors.decorator';

@ApiTags('clients')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/clients/:clientId/api-keys')
export class ApiKeysController {
  constructor(private readonly core: CoreClientService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue an API key for the client (shown once)' })
  @DocumentedErrors({ 409: TAKEN })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(
    @Param() params: ClientIdParamDto,
    @Body() body: CreateApiKeyDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CreatedApiKey> {
    return this.core.request(SUBJECTS.API_KEYS_CREATE, { ...body, clientId: params.clientId, auth: p.token }, rid);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(
    @Param() params: ClientIdParamDto,
    @Query() q: ListApiKeysQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<ApiKeyView>> {
    return this.core.request(SUBJECTS.API_KEYS_LIST, { ...q, clientId: params.clientId, auth: p.token }, rid);
  }

  @Delete(':keyId')
  @HttpCode(204)
  async delete(
    @Param() params: ApiKeyParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(
      SUBJECTS.API_KEYS_DELETE,
      { clientId: params.clientId, keyId: params.keyId, auth: p.token },
      rid,
    );
  }
}
