import { Inject, Injectable, Logger } from '@nestjs/common';
import { PortcullisError } from '@portcullis/contracts';
import { createLocalJWKSet, errors, JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { isSecureUrl, OidcProvider, optionsFor } from './oidc-providers.config';

/** How long keys already fetched keep verifying tokens while the IdP cannot be reached. */
const MAX_STALE_MS = 24 * 3600_000;
/** A discovery document or JWKS bigger than this is not an IdP answering. */
const MAX_DOCUMENT_BYTES = 512 * 1024;

export interface KeyPolicy {
  /** One deadline for discovery and JWKS together, so a login never waits longer than this. */
  timeoutMs: number;
  /** Keys younger than this are used without asking the IdP. */
  cacheMs: number;
  /** Minimum time between two fetches (refetch on an unknown `kid`, retry after a failure). */
  cooldownMs: number;
  maxStaleMs: number;
  /** Whether a plain-http jwks_uri off loopback is acceptable (as for the issuer: in tests only). */
  allowInsecureHttp: boolean;
}

export class IdpUnavailableError extends PortcullisError {
  constructor(provider: string, detail: string) {
    super('UNAVAILABLE', `Identity provider ${provider} is unavailable: ${detail}`);
  }
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

const parseUrl = (value: string): URL | null => {
  try {
    return new URL(value);
  } catch {
    return null;
  }
};

/**
 * Discovery (`{issuer}/.well-known/openid-configuration` → `jwks_uri`) and the JWKS of one
 * provider. jose's createRemoteJWKSet throws away its keys' usefulness the moment a refresh
 * fails; this keeps using them (up to MAX_STALE_MS) so an IdP outage does not stop sign-ins
 * with keys already known, while an unknown `kid` still triggers a rate-limited refetch.
 */
export class ProviderKeySet {
  private jwksUri?: string;
  private local?: LocalKeySet;
  private fetchedAt = 0;
  private lastAttempt = 0;
  private lastFailure?: IdpUnavailableError;
  private pending?: Promise<void>;

  constructor(
    private readonly provider: OidcProvider,
    private readonly policy: KeyPolicy,
    private readonly logger: Pick<Logger, 'warn' | 'log'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local) {
      // Fail fast (and spare the IdP) right after a failed attempt.
      if (this.lastFailure && this.coolingDown()) throw this.lastFailure;
      await this.refresh();
    } else if (Date.now() - this.fetchedAt > this.policy.cacheMs && !this.coolingDown()) {
      await this.refresh().catch((err: Error) => {
        if (Date.now() - this.fetchedAt > this.policy.maxStaleMs) throw err;
        this.logger.warn(
          `${err.message}; keeping keys fetched ${Math.round((Date.now() - this.fetchedAt) / 1000)} s ago`,
        );
      });
    }
    try {
      return await this.select(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || this.coolingDown()) throw err;
      // A `kid` we have not seen: the IdP may have rotated its keys since the last fetch.
      await this.refresh();
      return this.select(header, token);
    }
  };

  /**
   * The key the token names. One jose will not import (an RSA modulus under 2048 bits, material
   * that does not decode) throws a TypeError or DOMException: that is the IdP's fault, not ours.
   */
  private async select(...[header, token]: Parameters<JWTVerifyGetKey>): ReturnType<LocalKeySet> {
    try {
      return await this.local!(header, token);
    } catch (err) {
      if (err instanceof errors.JOSEError) throw err;
      const kid = typeof header.kid === 'string' ? header.kid.slice(0, 64) : '(no kid)';
      throw this.unavailable(`its key ${kid} is unusable (${(err as Error)?.message ?? String(err)})`);
    }
  }

  private coolingDown(): boolean {
    return Date.now() - this.lastAttempt < this.policy.cooldownMs;
  }

  private refresh(): Promise<void> {
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async load(): Promise<void> {
    this.lastAttempt = Date.now();
    const signal = AbortSignal.timeout(this.policy.timeoutMs);
    try {
      if (!this.jwksUri) this.jwksUri = await this.discover(signal);
      const jwks = await this.fetchJson(this.jwksUri, signal, 'JWKS');
      const keys = Array.isArray((jwks as JSONWebKeySet).keys) ? (jwks as JSONWebKeySet).keys : null;
      if (!keys) throw this.unavailable('its JWKS is not a JSON Web Key Set');
      // Symmetric keys can never verify an ID token here; drop them rather than trust them.
      this.local = createLocalJWKSet({ keys: keys.filter((k) => k && k.kty !== 'oct') });
      this.fetchedAt = Date.now();
      this.lastFailure = undefined;
      this.logger.log(`identity provider ${this.provider.name}: ${keys.length} key(s) from ${this.jwksUri}`);
    } catch (err) {
      // The JWKS may have moved: discover again next time.
      this.jwksUri = undefined;
      const failure = err instanceof IdpUnavailableError ? err : this.describe(err, signal.aborted);
      this.lastFailure = failure;
      throw failure;
    }
  }

  private async discover(signal: AbortSignal): Promise<string> {
    const url = `${this.provider.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await this.fetchJson(url, signal, 'discovery document')) as Record<string, unknown>;
    // OIDC Discovery §4.3: the document must be about exactly the configured issuer.
    if (doc.issuer !== this.provider.issuer)
      throw this.unavailable(`its discovery document names issuer ${JSON.stringify(doc.issuer)}`);
    // The keys are the trust anchor: fetched over plain http they are whatever the network says.
    const jwksUri = typeof doc.jwks_uri === 'string' && doc.jwks_uri.length <= 2048 ? parseUrl(doc.jwks_uri) : null;
    if (!jwksUri || !isSecureUrl(jwksUri, this.policy.allowInsecureHttp))
      throw this.unavailable('its discovery document has no https jwks_uri');
    return jwksUri.href;
  }

  private async fetchJson(url: string, signal: AbortSignal, what: string): Promise<unknown> {
    const res = await this.fetchImpl(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
    if (res.status !== 200) throw this.unavailable(`${what} answered HTTP ${res.status}`);
    const text = await this.readBounded(res, what);
    try {
      return JSON.parse(text);
    } catch {
      throw this.unavailable(`${what} is not JSON`);
    }
  }

  /** Reads no more than MAX_DOCUMENT_BYTES: a hostile or broken IdP cannot fill this replica's memory. */
  private async readBounded(res: Response, what: string): Promise<string> {
    const tooLarge = () => this.unavailable(`${what} is too large`);
    if (Number(res.headers.get('content-length')) > MAX_DOCUMENT_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_DOCUMENT_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private unavailable(detail: string): IdpUnavailableError {
    return new IdpUnavailableError(this.provider.name, detail);
  }

  /**
   * `timedOut`: our own deadline passed. undici does not always report that as a TimeoutError
   * (an abort racing its connection handling comes out as a bare "fetch failed"), so the signal,
   * not the error's shape, decides.
   */
  private describe(err: unknown, timedOut: boolean): IdpUnavailableError {
    const e = err as Error & { cause?: unknown };
    if (timedOut || e?.name === 'TimeoutError' || e?.name === 'AbortError')
      return this.unavailable(`no answer within ${this.policy.timeoutMs} ms`);
    if (e instanceof errors.JOSEError) return this.unavailable(`its JWKS is unusable (${e.message})`);
    const cause = e?.cause as { code?: unknown; message?: unknown } | string | undefined;
    const why = typeof cause === 'string' ? cause : (cause?.code ?? cause?.message);
    return this.unavailable(`cannot be reached (${String(why ?? e?.message ?? 'network error')})`);
  }
}

/** One key set per configured provider, kept for the life of the replica. */
@Injectable()
export class OidcKeysService {
  private readonly logger = new Logger('OidcKeys');
  private readonly sets = new Map<string, ProviderKeySet>();
  private readonly policy: KeyPolicy;

  constructor(@Inject(AUTH_CORE_CONFIG) config: AuthCoreConfig) {
    this.policy = {
      timeoutMs: config.OIDC_HTTP_TIMEOUT_MS,
      cacheMs: config.OIDC_JWKS_CACHE_SECONDS * 1000,
      cooldownMs: config.OIDC_JWKS_COOLDOWN_SECONDS * 1000,
      maxStaleMs: MAX_STALE_MS,
      allowInsecureHttp: optionsFor(config).allowInsecureHttp,
    };
  }

  keysOf(provider: OidcProvider): JWTVerifyGetKey {
    let set = this.sets.get(provider.name);
    if (!set) {
      set = new ProviderKeySet(provider, this.policy, this.logger);
      this.sets.set(provider.name, set);
    }
    return set.getKey;
  }
}
