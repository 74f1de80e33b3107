import { Injectable } from '@nestjs/common';
import { LoginReply, SUBJECTS } from '@portcullis/contracts';
import { FailedLoginThrottleService } from '../auth/failed-login-throttle.service';
import { CoreClientService } from '../core/core-client.service';
import { readOptionalClientAuth } from './client-auth';
import { InvalidRequest } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

/**
 * RFC 6749 §4.3: resource owner password credentials, the same login as `/api/v1/auth/login`, and
 * `scope` (§4.3.2) narrows the session to roles or permissions the user holds.
 */
@Injectable()
export class PasswordGrant {
  readonly type = 'password';

  constructor(
    private readonly core: CoreClientService,
    private readonly throttle: FailedLoginThrottleService,
  ) {}

  async execute(req: TokenRequestDto, rid: string, authorization?: string, ip = 'unknown') {
    if (!req.username || !req.password) throw new InvalidRequest('username and password are required');
    const client = readOptionalClientAuth(authorization, req);
    const reply = await this.throttle.guard(ip, () =>
      this.core.request<LoginReply>(
        SUBJECTS.LOGIN,
        {
          username: req.username,
          password: req.password,
          ...(client?.client_id ? { clientId: client.client_id } : {}),
          ...(client?.client_secret ? { clientSecret: client.client_secret } : {}),
          ...(req.scope ? { scope: req.scope } : {}),
        },
        rid,
      ),
    );
    // auth-core narrows the session to the scope asked (the client_credentials rule) and says so. A
    // client named that does not exist or is disabled is UNKNOWN_CLIENT, invalid_client here.
    return reply;
  }
}
