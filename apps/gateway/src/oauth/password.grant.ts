import { Injectable } from '@nestjs/common';
import { LoginReply, PortcullisError, SUBJECTS } from '@portcullis/contracts';
import { FailedLoginThrottleService } from '../auth/failed-login-throttle.service';
import { CoreClientService } from '../core/core-client.service';
import { readOptionalClientAuth } from './client-auth';
import { InvalidClient, InvalidRequest } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

/**
 * auth-core refuses a login naming a client that does not exist or is disabled as a bad `clientId`
 * (natively a 400 naming the field). To an OAuth client that is an unknown client: RFC 6749 §5.2's
 * invalid_client, as when the same client presents a secret.
 */
const namesNoClient = (err: unknown): err is PortcullisError =>
  err instanceof PortcullisError && err.code === 'BAD_REQUEST' && !!err.details?.some((d) => d.field === 'clientId');

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
    const reply = await this.throttle
      .guard(ip, () =>
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
      )
      .catch((err: unknown) => {
        throw namesNoClient(err) ? new InvalidClient(err.message) : err;
      });
    // auth-core narrows the session to the scope asked (the client_credentials rule) and says so.
    return reply;
  }
}
