import { Injectable } from '@nestjs/common';
import { SUBJECTS, TokenReply } from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { readClientAuth } from './client-auth';
import { TokenRequestDto } from './token-request.dto';

/** RFC 6749 §4.4: a machine client's own token; `scope` may narrow its roles/permissions. */
@Injectable()
export class ClientCredentialsGrant {
  readonly type = 'client_credentials';

  constructor(private readonly core: CoreClientService) {}

  execute(req: TokenRequestDto, rid: string, authorization?: string): Promise<TokenReply & { scope?: string }> {
    const { client_id, client_secret } = readClientAuth(authorization, req);
    return this.core.request(
      SUBJECTS.OAUTH_CLIENT_CREDENTIALS,
      { client_id, client_secret, ...(req.scope ? { scope: req.scope } : {}) },
      rid,
    );
  }
}
