import { Body, Controller, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyExchangeDto, ApiKeyExchangeReply, SUBJECTS } from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { ApiKeyExchangeReplyDto } from './api-key-exchange-response.dto';
import { RequestId } from './current-principal.decorator';
import { DocumentedErrors } from '../docs/documented-errors.decorator';

/**
 * `POST /api/v1/auth {apiKey}`: exchange an API key for a short-lived bearer. The reply keeps
 * the envelope shape existing clients of this route expect.
 */
@ApiTags('auth')
@Controller('api/v1/auth')
export class ApiKeyExchangeController {
  constructor(private readonly core: CoreClientService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange an API key for a bearer token' })
  @DocumentedErrors({
    401: '"Api Key has expired", or "Unauthenticated" for a key that is unknown, deleted or of a disabled client',
  })
  @ApiOkResponse({ type: ApiKeyExchangeReplyDto })
  async exchange(
    @Body() body: ApiKeyExchangeDto,
    @Ip() ip: string,
    @RequestId() rid: string,
  ): Promise<ApiKeyExchangeReplyDto> {
    const r = await this.core.request<ApiKeyExchangeReply>(
      SUBJECTS.API_KEYS_EXCHANGE,
      { apiKey: body.apiKey, ip },
      rid,
    );
    // The token also under the names of every other token reply (SPEC §4), beside the envelope.
    const token = { access_token: r.token, token_type: 'Bearer', expires_in: r.expires_in, roles: r.roles, tid: r.tid };
    return {
      statusCode: 200,
      status: 'OK',
      message: 'Success',
      data: { token: r.token, ...token },
      ...token,
    };
  }
}
