import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CountReply,
  RevokeAllTokensQueryDto,
  CreatedTokenReply,
  CreateTokenBodyDto,
  ListAllTokensQueryDto,
  ListTokensQueryDto,
  Page,
  SUBJECTS,
  TokenData,
  TokenIdParamDto,
} from '@portcullis/contracts';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { oneSpelling, TOKEN_CLIENT_SPELLINGS } from '../core/field-spellings';
import { CleanupDto, CountDto, CreatedTokenDto, TokenDataDto, TokenDataPageDto } from './token-response.dto';

/** The token registry (SPEC §4). Authorisation is decided by auth-core from the caller's token. */
@ApiTags('tokens')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly core: CoreClientService) {}

  @Get()
  @ApiOperation({ summary: "The caller's tokens (filters: roles, exclude_expired; paging: limit, cursor)" })
  @ApiOkResponse({ type: TokenDataPageDto })
  list(
    @Query() q: ListTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<TokenData>> {
    return this.core.request(SUBJECTS.TOKENS_LIST, { ...q, auth: p.token }, rid);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a token for the caller or (tokens:admin) for a client' })
  @ApiCreatedResponse({ type: CreatedTokenDto, description: 'The token (shown once) and its record' })
  create(
    @Body() body: CreateTokenBodyDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CreatedTokenReply> {
    const payload = oneSpelling(body, TOKEN_CLIENT_SPELLINGS);
    return this.core.request(SUBJECTS.TOKENS_CREATE, { ...payload, auth: p.token }, rid);
  }

  @Delete()
  @HttpCode(200)
  @ApiOperation({ summary: "Revoke all the caller's tokens, refresh families included" })
  @ApiOkResponse({ type: CountDto })
  revokeOwn(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<CountReply> {
    // It takes no query: a filter here would be ignored and revoke more than asked, so the input
    // rules (errors/input-rules.hook.ts) refuse one.
    return this.core.request(SUBJECTS.TOKENS_REVOKE_OWN, { auth: p.token }, rid);
  }

  @Get('all')
  @ApiOperation({ summary: 'All tokens (tokens:admin; filters: roles, exclude_expired, client_ids)' })
  @ApiOkResponse({ type: TokenDataPageDto })
  listAll(
    @Query() q: ListAllTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<Page<TokenData>> {
    return this.core.request(SUBJECTS.TOKENS_LIST_ALL, { ...q, auth: p.token }, rid);
  }

  @Delete('all')
  @HttpCode(200)
  @ApiOperation({
    summary: "Revoke every token except the caller's current one, or those the listing's filters select (tokens:admin)",
  })
  @ApiOkResponse({ type: CountDto })
  revokeAll(
    @Query() q: RevokeAllTokensQueryDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<CountReply> {
    return this.core.request(SUBJECTS.TOKENS_REVOKE_ALL, { ...q, auth: p.token }, rid);
  }

  @Post('cleanup')
  @HttpCode(200)
  @ApiOperation({ summary: 'Purge expired token records (tokens:admin)' })
  @ApiOkResponse({ type: CleanupDto })
  cleanup(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string) {
    return this.core.request(SUBJECTS.TOKENS_CLEANUP, { auth: p.token }, rid);
  }

  @Get(':tid')
  @ApiOperation({ summary: 'One token by id (owner or tokens:admin)' })
  @ApiOkResponse({ type: TokenDataDto })
  get(
    @Param() params: TokenIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<TokenData> {
    return this.core.request(SUBJECTS.TOKENS_GET, { tid: params.tid, auth: p.token }, rid);
  }

  @Delete(':tid')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one token (owner or tokens:admin); idempotent' })
  async revoke(
    @Param() params: TokenIdParamDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<void> {
    await this.core.request(SUBJECTS.TOKENS_REVOKE, { tid: params.tid, auth: p.token }, rid);
  }
}
