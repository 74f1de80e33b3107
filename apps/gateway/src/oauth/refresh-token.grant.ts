import { Injectable } from '@nestjs/common';
import { SUBJECTS, TokenReply } from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { readOptionalClientAuth } from './client-auth';
import { InvalidGrant, InvalidRequest } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

/** RFC 6749 §6: rotate a refresh token; `scope` may narrow within what the session was granted. */
@Injectable()
export class RefreshTokenGrant {
  readonly type = 'refresh_token';

  constructor(private readonly core: CoreClientService) {}

  async execute(req: TokenRequestDto, rid: string, authorization?: string): Promise<TokenReply> {
    if (!req.refresh_token) throw new InvalidRequest('refresh_token is required');
    const client = readOptionalClientAuth(authorization, req);
    // Far shorter than any refresh token Portcullis issues: not a malformed request, just not a grant.
    if (req.refresh_token.length < 16) throw new InvalidGrant('Refresh token is invalid');
    return this.core.request<TokenReply>(
      SUBJECTS.TOKEN_REFRESH,
      {
        refresh_token: req.refresh_token,
        ...(client?.client_id ? { client_id: client.client_id } : {}),
        ...(client?.client_secret ? { client_secret: client.client_secret } : {}),
        ...(req.scope ? { scope: req.scope } : {}),
      },
      rid,
    );
  }
}
