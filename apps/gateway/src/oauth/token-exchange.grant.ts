import { Injectable } from '@nestjs/common';
import {
  ApiKeyExchangeReply,
  badRequest,
  CLIENT_AUTH_FAILED,
  ErrorCode,
  ID_TOKEN_TYPE,
  LoginReply,
  MetaReply,
  PortcullisError,
  SUBJECTS,
  TokenReply,
} from '@portcullis/contracts';
import { CoreClientService } from '../core/core-client.service';
import { readOptionalClientAuth } from './client-auth';
import { grantedScope } from './granted-scope';
import { InvalidClient, InvalidRequest, InvalidTarget } from './oauth-error';
import { TokenRequestDto } from './token-request.dto';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_KEY_TOKEN_TYPE = 'urn:portcullis:params:oauth:token-type:api-key';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const SUBJECT_TOKEN_TYPES = [API_KEY_TOKEN_TYPE, ID_TOKEN_TYPE] as const;

/**
 * How auth-core refuses a subject token: an API key malformed, unknown or expired; an ID token
 * refused in any way (issuer, signature, expiry, audience…) or whose user is disabled or cannot
 * be provisioned (its username taken).
 */
const SUBJECT_REFUSALS: readonly ErrorCode[] = [
  'UNAUTHENTICATED',
  'UNHANDLED_REQUEST_ERROR',
  'INVALID_CREDENTIALS',
  'CONFLICT',
];

/**
 * RFC 8693 §2.2.2: an invalid or unacceptable subject_token is invalid_request, however the native
 * route answers the same refusal (401, 409). The client's own failed authentication stays
 * invalid_client, and an IdP that cannot be reached stays temporarily_unavailable. A bad field is
 * named as the client sent it: `subject_token`, not auth-core's `apiKey` or `idToken`.
 */
function subjectTokenRefusal(err: unknown, field: 'apiKey' | 'idToken'): unknown {
  if (!(err instanceof PortcullisError)) return err;
  if (err.message === CLIENT_AUTH_FAILED) return new InvalidClient(err.message);
  if (err.code === 'BAD_REQUEST' && err.details?.length)
    return new InvalidRequest(
      badRequest(err.details.map((d) => (d.field === field ? { ...d, field: 'subject_token' } : d))).message,
    );
  if (SUBJECT_REFUSALS.includes(err.code)) return new InvalidRequest(err.message);
  return err;
}

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
  ): Promise<TokenReply & { issued_token_type: string; scope?: string }> {
    const reply = await this.exchange(req, rid, authorization, ip);
    // The exchange does not narrow to a requested scope (the key's or the IdP's grant is the limit):
    // the reply says what the token carries when that is not what was asked (RFC 8693 §2.2.1).
    return { ...reply, scope: grantedScope(req.scope, reply.roles) };
  }

  private async exchange(
    req: TokenRequestDto,
    rid: string,
    authorization?: string,
    ip?: string,
  ): Promise<TokenReply & { issued_token_type: string }> {
    if (!req.subject_token || !req.subject_token_type)
      throw new InvalidRequest('subject_token and subject_token_type are required');
    // RFC 8693 §2.1: what cannot be honoured is refused, not swapped for something else — a client
    // asking for a refresh token, or for a delegation token naming its actor, would otherwise get a
    // plain access token and be told nothing.
    if (req.requested_token_type !== undefined && req.requested_token_type !== ACCESS_TOKEN_TYPE)
      throw new InvalidRequest(`requested_token_type ${req.requested_token_type} is not supported`);
    if (req.actor_token !== undefined || req.actor_token_type !== undefined)
      throw new InvalidRequest('Delegation (actor_token) is not supported');
    // RFC 8693 §2.1: `resource` names a target as `audience` does (by URI, RFC 8707); ignored, a
    // client asking for a token the billing API accepts would get one for Portcullis, told nothing.
    const targets = [...(req.audience ?? []), ...(req.resource ?? [])];
    if (targets.length) await this.assertTargets(targets, rid);
    // Client authentication is optional here, but credentials presented are checked (by auth-core).
    const presented = readOptionalClientAuth(authorization, req);
    const client = presented?.client_secret
      ? { client_id: presented.client_id, client_secret: presented.client_secret }
      : {};
    if (req.subject_token_type === ID_TOKEN_TYPE) return this.exchangeIdToken(req.subject_token, rid, client, ip);
    if (req.subject_token_type !== API_KEY_TOKEN_TYPE)
      throw new InvalidRequest(`subject_token_type ${req.subject_token_type} is not supported`);
    // The address too, as POST /api/v1/auth gives it: a key used only here would otherwise never
    // be audited as used from a new address.
    const r = await this.core
      .request<ApiKeyExchangeReply>(
        SUBJECTS.API_KEYS_EXCHANGE,
        { apiKey: req.subject_token, ...client, ...(ip ? { ip } : {}) },
        rid,
      )
      .catch((err: unknown) => {
        throw subjectTokenRefusal(err, 'apiKey');
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

  /**
   * Every token carries auth-core's one AUDIENCE: a token for another service cannot be issued, so
   * every target named must be that one (RFC 8693 §2.2.2: invalid_target otherwise).
   */
  private async assertTargets(targets: readonly string[], rid: string): Promise<void> {
    const { audience: ours } = await this.core.request<MetaReply>(SUBJECTS.META, {}, rid);
    const other = targets.find((t) => t !== ours);
    if (other !== undefined) throw new InvalidTarget(`Tokens are issued for audience ${ours} only, not ${other}`);
  }

  /** The same sign-in as `POST /api/v1/auth/oidc/login`, provider chosen by the token's `iss`. */
  private async exchangeIdToken(
    idToken: string,
    rid: string,
    client: { client_id?: string; client_secret?: string },
    ip?: string,
  ): Promise<TokenReply & { issued_token_type: string }> {
    const r = await this.core
      .request<LoginReply>(SUBJECTS.OIDC_LOGIN, { idToken, ...client, ...(ip ? { ip } : {}) }, rid)
      .catch((err: unknown) => {
        throw subjectTokenRefusal(err, 'idToken');
      });
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
