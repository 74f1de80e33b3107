import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  ClientIdParamDto,
  ClientRoleParamDto,
  ClientView,
  ClientWithSecret,
  CreateClientDto,
  ListClientsQueryDto,
  Page,
  RegisterClientDto,
  RevokeTokensQueryDto,
  SUBJECTS,
  UpdateClientDto,
  UpdateOwnClientDto,
} from '@portcullis/contracts';
import { bearerToken } from '../auth/authorization-header';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import {
  ClientPageDto,
  ClientRolesDto,
  ClientViewDto,
  ClientWithSecretDto,
  UpdatedClientDto,
} from './client-response.dto';
import { DocumentedErrors, TAKEN } from '../docs/documented-errors.decorator';

/**
 * Clients (service accounts). Role changes apply to tokens issued afterwards; tokens already
 * issued keep their roles until they expire unless `?revoke_tokens=true` revokes them.
 */
@ApiTags('clients')
@Controller('api/v1/clients')
export class ClientsController {
  constructor(private readonly core: CoreClientService) {}

  /** Self-registration presents CLIENT_REGISTRATION_TOKEN as its bearer (RFC 7591 style). */
  @Post('register')
  @HttpCode(201)
  @ApiOperation({ summary: 'Self-register a client (needs the registration token as bearer)' })
  @DocumentedErrors({
    401: 'The registration token is missing or wrong',
    403: 'Self-registration is disabled',
    409: TAKEN,
  })
  @ApiCreatedResponse({ type: ClientWithSecretDto })
  register(
    @Body() body: RegisterClientDto,
    @Headers('authorization') authorization: string | undefined,
    @RequestId() rid: string,
  ): Promise<ClientWithSecret> {
    // auth-core answers: 403 when self-registration is off, 401 when the token is missing or wrong.
    const registrationToken = bearerToken(authorization) ?? '';
    return this.core.request(SUBJECTS.CLIENTS_REGISTER, { ...body, registrationToken }, rid);
  }

  @Post()
  @HttpCode(201)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create a client; the secret is in this reply only' })
  @DocumentedErrors({ 409: TAKEN })
  @ApiCreatedResponse({ type: ClientWithSecretDto })
  create(
    @Body() body: CreateClientDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<ClientWithSecret> {
    return this.core.request(SUBJECTS.CLIENTS_CREATE, { ...body, auth: p.token }, rid);
  }

  @Get()
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ClientPageDto })
  list(
    @Query() q: ListClientsQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<ClientView>> {
    return this.core.request(SUBJECTS.CLIENTS_LIST, { ...q, auth: p.token }, rid);
  }

  @Get('me')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ClientViewDto })
  me(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<ClientView> {
    return this.core.request(SUBJECTS.CLIENTS_ME, { auth: p.token }, rid);
  }

  @Patch('me')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Update own description or rotate own secret' })
  @ApiOkResponse({ type: UpdatedClientDto })
  updateMe(@Body() body: UpdateOwnClientDto, @CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string) {
    return this.core.request(SUBJECTS.CLIENTS_UPDATE_ME, { ...body, auth: p.token }, rid);
  }

  @Get(':clientId')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ClientViewDto })
  get(
    @Param() params: ClientIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<ClientView> {
    return this.core.request(SUBJECTS.CLIENTS_GET, { clientId: params.clientId, auth: p.token }, rid);
  }

  @Patch(':clientId')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: UpdatedClientDto })
  update(
    @Param() params: ClientIdParamDto,
    @Body() body: UpdateClientDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ) {
    return this.core.request(SUBJECTS.CLIENTS_UPDATE, { ...body, clientId: params.clientId, auth: p.token }, rid);
  }

  @Delete(':clientId')
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Delete a client, revoking its tokens and API keys' })
  async delete(
    @Param() params: ClientIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.CLIENTS_DELETE, { clientId: params.clientId, auth: p.token }, rid);
  }

  @Delete(':clientId/roles')
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Clear the roles: 204, or 200 with the count of tokens revoked when revoke_tokens=true' })
  @ApiOkResponse({
    type: ClientRolesDto,
    description: 'revoke_tokens=true: the client and how many tokens were revoked',
  })
  @ApiNoContentResponse({ description: 'Cleared' })
  async clearRoles(
    @Param() params: ClientIdParamDto,
    @Query() q: RevokeTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const r = await this.core.request(
      SUBJECTS.CLIENTS_ROLES,
      { clientId: params.clientId, action: 'clear', ...q, auth: p.token },
      rid,
    );
    return withCountOrNoContent(r, q, res);
  }

  @Put(':clientId/roles/:role')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ClientRolesDto })
  addRole(
    @Param() params: ClientRoleParamDto,
    @Query() q: RevokeTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ) {
    return this.core.request(SUBJECTS.CLIENTS_ROLES, { ...params, action: 'add', ...q, auth: p.token }, rid);
  }

  @Delete(':clientId/roles/:role')
  @HttpCode(204)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Remove a role: 204, or 200 with the count of tokens revoked when revoke_tokens=true' })
  @ApiOkResponse({
    type: ClientRolesDto,
    description: 'revoke_tokens=true: the client and how many tokens were revoked',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  async removeRole(
    @Param() params: ClientRoleParamDto,
    @Query() q: RevokeTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const r = await this.core.request(
      SUBJECTS.CLIENTS_ROLES,
      { ...params, action: 'remove', ...q, auth: p.token },
      rid,
    );
    return withCountOrNoContent(r, q, res);
  }

  @Post(':clientId/enable')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ClientViewDto })
  enable(
    @Param() params: ClientIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<ClientView> {
    return this.core.request(
      SUBJECTS.CLIENTS_SET_STATE,
      { clientId: params.clientId, enabled: true, auth: p.token },
      rid,
    );
  }

  @Post(':clientId/disable')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Disable a client: its tokens stop validating on every replica at once' })
  @ApiOkResponse({ type: ClientViewDto })
  disable(
    @Param() params: ClientIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<ClientView> {
    return this.core.request(
      SUBJECTS.CLIENTS_SET_STATE,
      { clientId: params.clientId, enabled: false, auth: p.token },
      rid,
    );
  }
}

/**
 * SPEC §4: a delete answers 204, or 200 with a count where one is useful — here when the caller
 * asked for the client's tokens to be revoked too.
 */
function withCountOrNoContent(r: unknown, q: RevokeTokensQueryDto, res: FastifyReply): unknown {
  if (!q.revoke_tokens) return undefined;
  res.status(200);
  return r;
}
