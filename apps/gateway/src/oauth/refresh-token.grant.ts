import { Injectable } from '@nestjs/common';
import { SUBJECTS, TokenReply } from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { InvalidRequest } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

/** RFC 6749 §6: rotate a refresh token. */
@Injectable()
export class RefreshTokenGrant {
  readonly type = 'refresh_token';

  constructor(private readonly core: CoreClientService) {}

  execute(req: TokenRequestDto, rid: string): Promise<TokenReply> {
    if (!req.refresh_token) throw new InvalidRequest('refresh_token is required');
    return this.core.request<TokenReply>(SUBJECTS.TOKEN_REFRESH, { refresh_token: req.refresh_token }, rid);
  }
}
