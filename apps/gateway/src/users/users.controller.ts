import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ChangePasswordDto,
  CountReply,
  CreatedPat,
  CreatePatDto,
  CreateUserDto,
  ListPatsQueryDto,
  ListUsersQueryDto,
  Page,
  PatView,
  SUBJECTS,
  TokenOrNameParamDto,
  UpdateUserDto,
  UserIdParamDto,
  UserPatParamDto,
  UserView,
} from '@portcullis/contracts';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { CountDto } from '../tokens/token-response.dto';
import { CreatedPatDto, PatPageDto, UserPageDto, UserViewDto } from './user-response.dto';
import { DocumentedErrors, TAKEN } from '../docs/documented-errors.decorator';

/** Users, their passwords, sessions and personal access tokens. */
@ApiTags('users')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly core: CoreClientService) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: UserViewDto })
  @DocumentedErrors({ 409: TAKEN })
  create(
    @Body() body: CreateUserDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<UserView> {
    return this.core.request(SUBJECTS.USERS_CREATE, { ...body, auth: p.token }, rid);
  }

  @Get()
  @ApiOkResponse({ type: UserPageDto })
  list(
    @Query() q: ListUsersQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<UserView>> {
    return this.core.request(SUBJECTS.USERS_LIST, { ...q, auth: p.token }, rid);
  }

  @Put('me/password')
  @HttpCode(204)
  @ApiOperation({ summary: 'Change own password (needs the current one); ends every other session' })
  async changePassword(
    @Body() body: ChangePasswordDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.USERS_CHANGE_PASSWORD, { ...body, auth: p.token }, rid);
  }

  @Get('me')
  @ApiOkResponse({ type: UserViewDto })
  me(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<UserView> {
    return this.core.request(SUBJECTS.USERS_GET, { auth: p.token }, rid);
  }

  @Post('me/tokens')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a personal access token (value shown once)' })
  @DocumentedErrors({ 409: TAKEN })
  @ApiCreatedResponse({ type: CreatedPatDto })
  createOwnPat(
    @Body() body: CreatePatDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CreatedPat> {
    return this.core.request(SUBJECTS.PATS_CREATE, { ...body, auth: p.token }, rid);
  }

  @Get('me/tokens')
  @ApiOperation({ summary: 'Own personal access tokens, newest first (paging: limit, cursor)' })
  @ApiOkResponse({ type: PatPageDto })
  listOwnPats(
    @Query() q: ListPatsQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<PatView>> {
    return this.core.request(SUBJECTS.PATS_LIST, { ...q, auth: p.token }, rid);
  }

  @Delete('me/tokens/:tokenOrName')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a personal access token by its value or its name' })
  async deleteOwnPat(
    @Param() params: TokenOrNameParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.PATS_DELETE, { tokenOrName: params.tokenOrName, auth: p.token }, rid);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserViewDto })
  get(
    @Param() params: UserIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<UserView> {
    return this.core.request(SUBJECTS.USERS_GET, { userId: params.id, auth: p.token }, rid);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserViewDto })
  update(
    @Param() params: UserIdParamDto,
    @Body() body: UpdateUserDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<UserView> {
    return this.core.request(SUBJECTS.USERS_UPDATE, { ...body, userId: params.id, auth: p.token }, rid);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(
    @Param() params: UserIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.USERS_DELETE, { userId: params.id, auth: p.token }, rid);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke every OAuth token of the user (PATs stay)' })
  @ApiOkResponse({ type: CountDto })
  revokeTokens(
    @Param() params: UserIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CountReply> {
    return this.core.request(SUBJECTS.USERS_REVOKE_TOKENS, { userId: params.id, auth: p.token }, rid);
  }

  @Delete(':id/credentials')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the user's password and PATs and revoke every token" })
  async removeCredentials(
    @Param() params: UserIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.USERS_REMOVE_CREDENTIALS, { userId: params.id, auth: p.token }, rid);
  }

  @Post(':id/tokens')
  @HttpCode(201)
  @ApiCreatedResponse({ type: CreatedPatDto })
  @DocumentedErrors({ 409: TAKEN })
  createPat(
    @Param() params: UserIdParamDto,
    @Body() body: CreatePatDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CreatedPat> {
    return this.core.request(SUBJECTS.PATS_CREATE, { ...body, userId: params.id, auth: p.token }, rid);
  }

  @Get(':id/tokens')
  @ApiOperation({ summary: "A user's personal access tokens, newest first (paging: limit, cursor)" })
  @ApiOkResponse({ type: PatPageDto })
  listPats(
    @Param() params: UserIdParamDto,
    @Query() q: ListPatsQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<PatView>> {
    return this.core.request(SUBJECTS.PATS_LIST, { ...q, userId: params.id, auth: p.token }, rid);
  }

  @Delete(':id/tokens/:tokenOrName')
  @HttpCode(204)
  async deletePat(
    @Param() params: UserPatParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(
      SUBJECTS.PATS_DELETE,
      { tokenOrName: params.tokenOrName, userId: params.id, auth: p.token },
      rid,
    );
  }
}
