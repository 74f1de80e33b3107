import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Page, RotatedKeyReply, RotateKeyBodyDto, SigningKeyView, SUBJECTS } from '@portcullis/contracts';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { AuthenticatedPrincipal } from '../auth/bearer.strategy';
import { CurrentPrincipal, RequestId } from '../auth/current-principal.decorator';
import { CoreClientService } from '../core/core-client.service';
import { RotatedKeyDto, SigningKeyPageDto } from './key-response.dto';

@ApiTags('keys')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/keys')
export class KeysController {
  constructor(private readonly core: CoreClientService) {}

  @Get()
  @ApiOperation({ summary: 'Signing keys (keys:admin); public data only' })
  @ApiOkResponse({ type: SigningKeyPageDto })
  list(@CurrentPrincipal() p: AuthenticatedPrincipal, @RequestId() rid: string): Promise<Page<SigningKeyView>> {
    return this.core.request(SUBJECTS.KEYS_LIST, { auth: p.token }, rid);
  }

  @Post('rotate')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a new active signing key; old keys verify until their tokens expire' })
  @ApiCreatedResponse({ type: RotatedKeyDto })
  rotate(
    @Body() body: RotateKeyBodyDto,
    @CurrentPrincipal() p: AuthenticatedPrincipal,
    @RequestId() rid: string,
  ): Promise<RotatedKeyReply> {
    return this.core.request(SUBJECTS.KEYS_ROTATE, { ...body, auth: p.token }, rid);
  }
}
