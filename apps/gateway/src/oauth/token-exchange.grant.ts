import { Injectable } from '@nestjs/common';
import {
  ApiKeyExchangeReply,
  CLIENT_AUTH_FAILED,
  ID_TOKEN_TYPE,
  LoginReply,
  PortcullisError,
  SUBJECTS,
  TokenReply,
} from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { readOptionalClientAuth } from './client-auth';
import { InvalidClient, InvalidRequest } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_KEY_TOKEN_TYPE = 'urn:portcullis:params:oauth:token-type:api-key';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const SUBJECT_TOKEN_TYPES = [API_KEY_TOKEN_TYPE, ID_TOKEN_TYPE] as const;

/** RFC 8693 token exchange. Subject tokens: a Portcullis API key or an external IdP's ID token. */
@Injectable()
export class TokenExchangeGrant {
  readonly type = TOKEN_EXCHANGE_GRANT;
  readonly subjectTokenTypes = SUBJECT_TOKEN_TYPES;

  constructor(private readonly core: CoreClientService) {}

  async execute(
    req: TokenRequestDto,
    rid: string,
    authorization?: string,
    ip?: string,
  ): Promise<TokenReply & { issued_token_type: string }> {
    if (!req.subject_token || !req.subject_token_type)
      throw new InvalidRequest('subject_token and subject_token_type are required');
    // Client authentication is optional here, but credentials presented are checked (by auth-core).
    const presented = readOptionalClientAuth(authorization, req);
    const client = presented?.client_secret
      ? { client_id: presented.client_id, client_secret: presented.client_secret }
      : {};
    if (req.subject_token_type === ID_TOKEN_TYPE) return this.exchangeIdToken(req.subject_token, rid, client, ip);
    if (req.subject_token_type !== API_KEY_TOKEN_TYPE)
      throw new InvalidRequest(`subject_token_type ${req.subject_token_type} is not supported`);
    const r = await this.core
      .request<ApiKeyExchangeReply>(SUBJECTS.API_KEYS_EXCHANGE, { apiKey: req.subject_token, ...client }, rid)
      .catch((err: unknown) => {
        // RFC 8693 §2.2.2: a subject token that is malformed, unknown or expired is invalid_request;
        // the client's own failed authentication stays invalid_client.
        if (err instanceof PortcullisError && err.message === CLIENT_AUTH_FAILED) throw new InvalidClient(err.message);
        if (err instanceof PortcullisError && ['UNAUTHENTICATED', 'UNHANDLED_REQUEST_ERROR'].includes(err.code))
          throw new InvalidRequest(err.message);
        throw err;
      });
    return {
      access_token: r.token,
      token_type: 'Bearer',
      expires_in: r.expires_in,
      roles: r.roles,
      tid: r.tid,
      issued_token_type: ACCESS_TOKEN_TYPE,
    };
  }

  /** The same sign-in as `POST /api/v1/auth/oidc/login`, provider chosen by the token's `iss`. */
  private async exchangeIdToken(
    idToken: string,
    rid: string,
    client: { client_id?: string; client_secret?: string },
    ip?: string,
  ): Promise<TokenReply & { issued_token_type: string }> {
    const r = await this.core.request<LoginReply>(
      SUBJECTS.OIDC_LOGIN,
      { idToken, ...client, ...(ip ? { ip } : {}) },
      rid,
    );
    return {
      access_token: r.access_token,
      token_type: 'Bearer',
      expires_in: r.expires_in,
      refresh_token: r.refresh_token,
      roles: r.roles,
      tid: r.tid,
      issued_token_type: ACCESS_TOKEN_TYPE,
    };
  }
}
