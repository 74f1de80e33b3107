import { IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

/** Provider names appear in usernames (`name:sub`) and URLs, so they stay short and plain. */
export const OIDC_PROVIDER_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** RFC 8693 token type of an OpenID Connect ID token used as a subject token. */
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** `POST /api/v1/auth/oidc/login`: sign in with an ID token issued by a configured identity provider. */
export class OidcLoginDto {
  @IsString()
  @Length(16, 16384)
  idToken!: string;

  /** Which configured provider issued the token; when absent it is chosen by the token's `iss`. */
  @IsOptional()
  @IsString()
  @Matches(OIDC_PROVIDER_NAME_PATTERN, { message: 'provider must be a configured provider name' })
  provider?: string;

  /** The nonce the caller sent in its authentication request; the token must carry the same. */
  @IsOptional()
  @IsString()
  @Length(1, 512)
  nonce?: string;
}

/** NATS payload of `auth.v1.oidc.login`: the gateway adds the caller's address for the audit trail. */
export class OidcLoginRequest extends OidcLoginDto {
  @IsOptional() @IsString() @MaxLength(64) ip?: string;
  /** The OAuth client making a token exchange, when it authenticates: it must do so correctly. */
  @IsOptional() @IsString() @Length(1, 128) client_id?: string;
  @IsOptional() @IsString() @Length(1, 512) client_secret?: string;
}

/**
 * What a sign-in UI needs to start a login at a provider; never anything secret. Nor the role
 * mapping: the reply is anonymous, and `mapRoles` would tell anyone which IdP group to join (or
 * forge a claim for) to become an administrator here.
 */
export interface OidcProviderView {
  name: string;
  baseUrl: string;
  clientId: string;
  issuer: string;
  audience: string;
}

export type OidcConfigReply = OidcProviderView[];
