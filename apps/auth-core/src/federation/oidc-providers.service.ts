import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { OidcProvider, optionsFor, parseOidcProviders } from './oidc-providers.config';

/** The configured providers of this replica, looked up by name or by issuer. */
@Injectable()
export class OidcProvidersService {
  readonly providers: readonly OidcProvider[];

  constructor(@Inject(AUTH_CORE_CONFIG) config: AuthCoreConfig) {
    this.providers = Object.freeze(parseOidcProviders(config.OIDC_PROVIDERS, optionsFor(config)));
  }

  byName(name: string): OidcProvider | undefined {
    return this.providers.find((p) => p.name === name);
  }

  /**
   * Several providers may share an issuer (one per client id): the client `azp` names when the
   * token is addressed to it, else the first whose audience the token holds.
   */
  byIssuer(issuer: string, aud: string[], azp?: unknown): OidcProvider | undefined {
    const candidates = this.providers.filter((p) => p.issuer === issuer);
    const addressed = candidates.filter((p) => aud.includes(p.audience));
    return addressed.find((p) => p.clientId === azp) ?? addressed[0] ?? candidates[0];
  }
}
