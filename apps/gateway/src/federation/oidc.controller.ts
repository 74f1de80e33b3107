import { Body, Controller, Get, Header, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LoginReply, OidcConfigReply, OidcLoginDto, SUBJECTS } from '@portcullis/contracts';
import { RequestId } from '../auth/current-principal.decorator';
import { LoginReplyDto } from '../auth/auth-response.dto';
import { CoreClientService } from '../core/core-client.service';
import { OidcProviderDto } from './oidc-response.dto';
import { DocumentedErrors } from '../docs/documented-errors.decorator';

/** Sign-in with an external OpenID Connect identity provider (SPEC §4). */
@ApiTags('auth')
@Controller('api/v1/auth/oidc')
export class OidcController {
  constructor(private readonly core: CoreClientService) {}

  @Get('config')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'The configured identity providers, for a sign-in page (nothing secret)' })
  @ApiOkResponse({ type: [OidcProviderDto] })
  config(@RequestId() rid: string): Promise<OidcConfigReply> {
    return this.core.request(SUBJECTS.OIDC_CONFIG, {}, rid);
  }

  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Log in with an ID token of a configured identity provider' })
  @DocumentedErrors({
    401: 'The ID token is refused, or its user is disabled',
    409: 'The username is taken by another account',
  })
  @ApiOkResponse({ type: LoginReplyDto })
  login(@Body() body: OidcLoginDto, @Ip() ip: string, @RequestId() rid: string): Promise<LoginReply> {
    return this.core.request(SUBJECTS.OIDC_LOGIN, { ...body, ip }, rid);
  }
}
