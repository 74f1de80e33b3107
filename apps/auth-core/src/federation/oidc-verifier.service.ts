import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, ErrorDetail, PortcullisError } from '@portcullis/contracts';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  JWTPayload,
  jwtVerify,
  JWTVerifyGetKey,
  JWTVerifyOptions,
  KeyInput,
  ProtectedHeaderParameters,
} from 'jose';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { IdpUnavailableError, OidcKeysService } from './oidc-keys.service';
import { OidcProvider } from './oidc-providers.config';
import { OidcProvidersService } from './oidc-providers.service';

/**
 * ID tokens are meant to be used at once; one issued more than a day ago is not a sign-in.
 * Giving jose a maximum age is also what makes it refuse an `iat` in the future.
 */
const MAX_TOKEN_AGE = '24h';
const MAX_SUBJECT_LENGTH = 255;
/**
 * Explicit JWT types of tokens that are not ID tokens (RFC 8725 §3.11): an IdP's access token for
 * an API (RFC 9068), a logout token or a security event may carry our audience too.
 */
const NOT_ID_TOKEN_TYPES = ['at+jwt', 'logout+jwt', 'secevent+jwt', 'dpop+jwt', 'token-introspection+jwt'];
/**
 * What PostgreSQL keeps exactly: no NUL (refused there, a 500) and no half surrogate pair (the
 * driver writes U+FFFD for one, so two subjects would become one account); no control characters.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const UNSTORABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const normalizeTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

export interface VerifiedIdentity {
  provider: OidcProvider;
  issuer: string;
  subject: string;
  claims: JWTPayload;
}

/** A refused sign-in, with a reason for the audit trail besides the caller's message. */
export class OidcLoginError extends PortcullisError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly reason: string,
    readonly provider: string | null,
    details: ErrorDetail[] | null = null,
  ) {
    super(code, message, details);
  }
}

const reject = (reason: string, message: string, provider: OidcProvider | null) =>
  new OidcLoginError('INVALID_CREDENTIALS', message, reason, provider?.name ?? null);

/**
 * Verifies an ID token of a configured provider (OIDC Core §3.1.3.7): signature with an
 * allow-listed algorithm and a key the provider publishes, `iss` exactly, `aud` holding the
 * client, `exp`/`iat`/`nbf` within CLOCK_SKEW, `azp` when there are several audiences, `nonce`.
 */
@Injectable()
export class OidcVerifierService {
  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly providers: OidcProvidersService,
    private readonly keys: OidcKeysService,
  ) {}

  async verify(idToken: string, opts: { provider?: string; nonce?: string } = {}): Promise<VerifiedIdentity> {
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(idToken);
      unverified = decodeJwt(idToken);
    } catch {
      throw reject('malformed', 'ID token is malformed', null);
    }
    const aud = typeof unverified.aud === 'string' ? [unverified.aud] : (unverified.aud ?? []);
    const provider = this.choose(opts.provider, unverified.iss, aud, unverified.azp);
    // Before any network: `none`, HMAC or anything else off the list never costs an IdP request.
    if (typeof header.alg !== 'string' || !provider.allowedAlgorithms.includes(header.alg))
      throw reject('algorithm', `ID token algorithm ${String(header.alg)} is not allowed`, provider);
    if (typeof header.typ === 'string' && NOT_ID_TOKEN_TYPES.includes(normalizeTyp(header.typ)))
      throw reject('token_type', 'ID token is not an ID token (typ)', provider);

    let claims: JWTPayload;
    try {
      claims = await this.check(idToken, this.keys.keysOf(provider), {
        issuer: provider.issuer,
        audience: provider.audience,
        algorithms: provider.allowedAlgorithms,
        clockTolerance: this.config.CLOCK_SKEW,
        maxTokenAge: MAX_TOKEN_AGE,
        requiredClaims: ['sub', 'iat', 'exp'],
      });
    } catch (err) {
      throw this.translate(err, provider, header.kid);
    }
    this.checkAuthorizedParty(provider, aud, claims.azp);
    if (opts.nonce !== undefined && claims.nonce !== opts.nonce)
      throw reject('nonce', 'ID token nonce does not match', provider);
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub.length < 1 || sub.length > MAX_SUBJECT_LENGTH || UNSTORABLE.test(sub))
      throw reject('claims', 'ID token subject is invalid', provider);
    return { provider, issuer: provider.issuer, subject: sub, claims };
  }

  /**
   * OIDC Core §3.1.3.7: a token also meant for audiences this service does not own may have been
   * received by one of them, which could replay it here; only `azp` naming our client shows it
   * was issued to us. With our audience alone, `azp` may name a sibling client (Google's
   * cross-client tokens), as the IdP addressed it to us.
   */
  private checkAuthorizedParty(provider: OidcProvider, aud: string[], azp: unknown): void {
    if (aud.length < 2) return;
    if (azp !== undefined && azp !== provider.clientId)
      throw reject('audience', 'ID token was issued to another client (azp)', provider);
    const ours = [provider.audience, provider.clientId];
    if (azp === undefined && aud.some((a) => !ours.includes(a)))
      throw reject('audience', 'ID token has other audiences and no azp naming this client', provider);
  }

  private choose(name: string | undefined, iss: unknown, aud: string[], azp: unknown): OidcProvider {
    if (name !== undefined) {
      const named = this.providers.byName(name);
      if (!named)
        throw new OidcLoginError('BAD_REQUEST', `Unknown identity provider ${name}`, 'unknown_provider', null, [
          { field: 'provider', errors: ['provider is not configured'] },
        ]);
      return named;
    }
    const byIssuer = typeof iss === 'string' ? this.providers.byIssuer(iss, aud, azp) : undefined;
    if (!byIssuer) throw reject('unknown_issuer', 'ID token issuer is not a configured identity provider', null);
    return byIssuer;
  }

  /** A JWKS may hold several keys a `kid`-less token could match: jose leaves trying them to us. */
  private async check(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, keys, options)).payload;
    } catch (err) {
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
      for await (const key of err as unknown as AsyncIterable<KeyInput>) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (inner) {
          // A key that cannot verify at all (a short RSA modulus: a TypeError) is just not this one.
          if (inner instanceof errors.JOSEError && !(inner instanceof errors.JWSSignatureVerificationFailed))
            throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  private translate(err: unknown, provider: OidcProvider, kid: unknown): PortcullisError {
    // jose refuses a key it cannot verify with (an RSA modulus under 2048 bits) with a TypeError:
    // the IdP publishes a key unfit for use, which is its fault, not an internal error here.
    if (err instanceof TypeError && !(err instanceof errors.JOSEError)) {
      const key = typeof kid === 'string' ? kid.slice(0, 64) : '(no kid)';
      err = new IdpUnavailableError(provider.name, `its key ${key} is unusable (${err.message})`);
    }
    if (err instanceof IdpUnavailableError)
      return new OidcLoginError('UNAVAILABLE', err.message, 'provider_unavailable', provider.name);
    if (err instanceof errors.JWTExpired) return reject('expired', 'ID token has expired', provider);
    if (err instanceof errors.JWTClaimValidationFailed) {
      const claim = err.claim;
      // Only a failed time or value check has a message of its own; an absent claim says so.
      if (err.reason === 'missing') return reject('claims', `ID token has no ${claim} claim`, provider);
      if (claim === 'aud')
        return reject('audience', 'ID token audience does not include the configured client', provider);
      if (claim === 'iss')
        return reject('issuer', `ID token issuer does not match provider ${provider.name}`, provider);
      if (claim === 'nbf') return reject('not_yet_valid', 'ID token is not valid yet', provider);
      if (claim === 'iat') return reject('issued_in_future', 'ID token is issued in the future', provider);
      return reject('claims', `ID token rejected: ${err.message}`, provider);
    }
    if (err instanceof errors.JOSEAlgNotAllowed)
      return reject('algorithm', 'ID token algorithm is not allowed', provider);
    if (err instanceof errors.JWKSNoMatchingKey)
      return reject('unknown_key', `ID token is signed by a key ${provider.name} does not publish`, provider);
    if (err instanceof errors.JWSSignatureVerificationFailed)
      return reject('signature', 'ID token signature is invalid', provider);
    if (err instanceof errors.JOSEError) return reject('malformed', 'ID token is malformed', provider);
    if (err instanceof PortcullisError) return err;
    throw err;
  }
}
