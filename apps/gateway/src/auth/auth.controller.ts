import { Body, Controller, Get, Header, Headers, HttpCode, Ip, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ExtendedTokenDto,
  LoginBodyDto,
  LoginReply,
  MeReply,
  PortcullisError,
  LogoutBodyDto,
  RefreshBodyDto,
  SUBJECTS,
  PAT_PREFIX,
  TokenReply,
  ValidateTokenDto,
  ValidateTokenReply,
  ValidateTokenRequestDto,
} from '@portcullis/contracts';
import { isIP } from 'node:net';
import { encodedOncePerClaims } from '@portcullis/jwt';
import { CoreClientService } from '../core/core-client.service';
import { LOGIN_CLIENT_SPELLINGS, oneSpelling, REFRESH_CLIENT_SPELLINGS } from '../core/field-spellings';
import { LoginReplyDto, MeReplyDto, TokenReplyDto, ValidTokenDto } from './auth-response.dto';
import { FailedLoginThrottleService } from './failed-login-throttle.service';
import { TokenValidatorService } from './token-validator.service';
import { bearerToken } from './authorization-header';
import { BearerAuthGuard } from './bearer-auth.guard';
import type { AuthenticatedPrincipal } from './bearer.strategy';
import { CurrentPrincipal, RequestId } from './current-principal.decorator';
import { ValidateQueryDto } from './validate-query.dto';
import { DocumentedErrors, THROTTLED } from '../docs/documented-errors.decorator';

const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The address auth-core audits a PAT's first use from (`pat.used_from_new_ip`): the one this
 * gateway sees (the socket, or X-Forwarded-For through TRUST_PROXY), never one the caller states.
 * With every hop trusted, X-Forwarded-For may hold anything; auth-core refuses a clientIp that is
 * no address, so that is left out rather than turned into a refused validation. Only a PAT's
 * validation uses it: a JWT's (the hot path, judged in this gateway) is not given one.
 */
const NO_ADDRESS: { clientIp?: string } = Object.freeze({});
const callerAddress = (token: string, ip: string | undefined): { clientIp?: string } =>
  token.startsWith(PAT_PREFIX) && ip && isIP(ip) ? { clientIp: ip } : NO_ADDRESS;

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly core: CoreClientService,
    private readonly throttle: FailedLoginThrottleService,
    private readonly validator: TokenValidatorService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with username and password (optionally on behalf of a client)' })
  @DocumentedErrors({
    401: 'Invalid username or password (an unknown user, a wrong password and a locked account answer alike)',
    429: THROTTLED,
  })
  @ApiOkResponse({ type: LoginReplyDto })
  login(@Body() body: LoginBodyDto, @Ip() ip: string, @RequestId() rid: string): Promise<LoginReply> {
    const payload = oneSpelling(body, LOGIN_CLIENT_SPELLINGS);
    return this.throttle.guard(ip, () => this.core.request(SUBJECTS.LOGIN, payload, rid));
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate a refresh token for a new access token' })
  @DocumentedErrors({
    401: 'The refresh token is unknown, expired, revoked or already used, or its client did not authenticate',
  })
  @ApiOkResponse({ type: TokenReplyDto })
  refresh(@Body() body: RefreshBodyDto, @RequestId() rid: string): Promise<TokenReply> {
    return this.core.request(SUBJECTS.TOKEN_REFRESH, oneSpelling(body, REFRESH_CLIENT_SPELLINGS), rid);
  }

  /**
   * No BearerAuthGuard: a token revoked already (a second logout) or expired still ends its session
   * (SPEC §7, revocation is idempotent), so auth-core judges the bearer itself, as genuine or not.
   */
  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Revoke this token and its refresh family',
    description:
      'The bearer may be revoked already (the answer is the same, nothing changes) or expired (its session still ends)',
  })
  @DocumentedErrors({ 401: 'Missing or malformed bearer token, or one Portcullis did not issue' })
  async logout(
    @Body() body: LogoutBodyDto,
    @Headers('authorization') authorization: string | undefined,
    @RequestId() rid: string,
  ): Promise<void> {
    const token = bearerToken(authorization);
    if (!token) throw new PortcullisError('UNAUTHENTICATED', 'Missing or malformed bearer token');
    await this.core.request(SUBJECTS.LOGOUT, { ...body, token }, rid);
  }

  @Get('me')
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Token data of the presented token' })
  @ApiOkResponse({ type: MeReplyDto })
  me(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<MeReply> {
    return this.core.request(SUBJECTS.AUTH_ME, { token: p.token }, rid);
  }

  @Post('system-token')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "A short-lived system token for the caller's own client (system or admin role)" })
  @ApiOkResponse({ type: TokenReplyDto })
  systemToken(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<TokenReply> {
    return this.core.request(SUBJECTS.SYSTEM_TOKEN, { auth: p.token }, rid);
  }

  @Post('extended-token')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'An extended token for a registered client, expiry capped by EXTENDED_TOKEN_MAX_TTL' })
  // The client is named in the body, not the path: the route table does not tell this 404.
  @DocumentedErrors({ 404: 'No client has this clientId' })
  // Written out: the OpenAPI plugin reads `number | string` as an object.
  @ApiBody({
    schema: {
      type: 'object',
      required: ['clientId', 'expiry'],
      properties: {
        clientId: { type: 'string', minLength: 1, maxLength: 128 },
        expiry: {
          oneOf: [
            { type: 'integer', minimum: 1, description: 'Seconds from now' },
            { type: 'string', format: 'date-time', description: 'The moment the token expires (ISO-8601)' },
          ],
        },
      },
    },
  })
  @ApiOkResponse({ type: TokenReplyDto })
  extendedToken(
    @Body() body: ExtendedTokenDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<TokenReply> {
    return this.core.request(SUBJECTS.EXTENDED_TOKEN, { ...body, auth: p.token }, rid);
  }

  @Get('validate')
  @Header('Content-Type', JSON_UTF8)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Validate the bearer token, optionally requiring roles, permissions or a tenant' })
  @ApiOkResponse({ type: ValidTokenDto })
  validateBearer(
    @Headers('authorization') authorization: string | undefined,
    @Query() q: ValidateQueryDto,
    @Ip() ip: string | undefined,
    @RequestId() rid: string,
  ) {
    const token = bearerToken(authorization);
    if (!token) throw new PortcullisError('UNAUTHENTICATED', 'Missing or malformed bearer token');
    return this.validate({ token, ...q, ...callerAddress(token, ip) }, rid);
  }

  @Post('validate')
  @HttpCode(200)
  @Header('Content-Type', JSON_UTF8)
  @ApiOperation({ summary: 'Validate a token given in the body' })
  @DocumentedErrors({
    401: 'The token is not valid',
    403: 'The token lacks a role, permission or tenant the request requires',
  })
  @ApiOkResponse({ type: ValidTokenDto })
  validateBody(@Body() body: ValidateTokenDto, @Ip() ip: string | undefined, @RequestId() rid: string) {
    return this.validate({ ...body, ...callerAddress(body.token, ip) }, rid);
  }

  /** The JSON of a positive reply, encoded once per claims object. */
  private readonly encodedValid = encodedOncePerClaims((claims) => JSON.stringify({ valid: true, claims }));

  /**
   * A negative answer is an HTTP error (401/403) so plain HTTP clients need not read the body.
   *
   * The positive answer goes out as its JSON text, encoded once per claims object (see
   * encodedOncePerClaims). Returned as an object, each reply cost a JSON.stringify and Nest's
   * plain-object check (which stringifies a constructor), ≈ 12 % of the gateway's CPU here.
   */
  private async validate(req: ValidateTokenRequestDto, rid: string): Promise<string> {
    const reply: ValidateTokenReply = await this.validator.validate(req, rid);
    if (!reply.valid) throw new PortcullisError(reply.error.code, reply.error.message, reply.error.details ?? null);
    return this.encodedValid(reply.claims);
  }
}
