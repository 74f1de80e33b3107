import { readFileSync } from 'node:fs';
import { EnvCheck, OIDC_PROVIDER_NAME_PATTERN, ROLE_PATTERN } from '@portcullis/contracts';

/** One external OpenID Connect identity provider whose ID tokens are accepted, fully defaulted. */
export interface OidcProvider {
  name: string;
  issuer: string;
  clientId: string;
  /** The value `aud` must contain; the client id unless configured otherwise. */
  audience: string;
  baseUrl: string;
  rolesClaim: string | null;
  mapRoles: Record<string, string[]>;
  defaultRoles: string[];
  tenantsClaim: string | null;
  allowedAlgorithms: string[];
}

/**
 * Asymmetric algorithms only: with HS* the "key" would be the client secret, which this service
 * never holds, and accepting it would let anyone who knows the secret mint identities.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'];
/** Granted to everyone the provider vouches for, so never the privileged roles. */
const FORBIDDEN_DEFAULT_ROLES = ['admin', 'system'];
const KNOWN_FIELDS = new Set([
  'name',
  'issuer',
  'clientId',
  'audience',
  'baseUrl',
  'rolesClaim',
  'mapRoles',
  'defaultRoles',
  'tenantsClaim',
  'allowedAlgorithms',
]);
const CLAIM_NAME = /^[\x21-\x7e]{1,256}$/;

export class OidcConfigError extends Error {}

export interface ParseOptions {
  /** Plain http issuers off loopback: in tests only. */
  allowInsecureHttp: boolean;
  readFile?: (path: string) => string;
}

const isLoopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

/** https, or plain http where allowed: in tests, or on the machine itself. */
export const isSecureUrl = (url: URL, allowInsecureHttp: boolean): boolean =>
  url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecureHttp || isLoopback(url)));

function checkUrl(value: unknown, field: string, opts: ParseOptions, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value.length > 512) {
    problems.push(`${field} must be a URL string`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${field} must be a URL (got ${JSON.stringify(value.slice(0, 80))})`);
    return undefined;
  }
  if (!isSecureUrl(url, opts.allowInsecureHttp)) problems.push(`${field} must be an https URL`);
  // On the text, not the URL: `https://x/#` parses with an empty hash, and `#` splits the users' key.
  if (/[?#]/.test(value)) problems.push(`${field} must have no query or fragment`);
  // Both are shown to anyone at GET /auth/oidc/config.
  if (url.username || url.password) problems.push(`${field} must have no user or password`);
  return value;
}

function checkRoles(value: unknown, field: string, problems: string[]): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((r) => typeof r !== 'string' || !ROLE_PATTERN.test(r))) {
    problems.push(`${field} must be a role or a list of roles matching ${ROLE_PATTERN}`);
    return [];
  }
  return [...new Set(list as string[])];
}

function optionalClaim(value: unknown, field: string, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !CLAIM_NAME.test(value)) {
    problems.push(`${field} must be a claim name (e.g. "groups" or "realm_access.roles")`);
    return null;
  }
  return value;
}

function parseProvider(raw: unknown, opts: ParseOptions, problems: string[]): OidcProvider | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push('must be an object');
    return null;
  }
  const p = raw as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!KNOWN_FIELDS.has(key)) problems.push(`unknown field ${key}`);
  if (typeof p.name !== 'string' || !OIDC_PROVIDER_NAME_PATTERN.test(p.name))
    problems.push('name must be 1-32 of [a-z0-9-], starting alphanumeric');
  const issuer = checkUrl(p.issuer, 'issuer', opts, problems);
  if (typeof p.clientId !== 'string' || p.clientId.length < 1 || p.clientId.length > 256)
    problems.push('clientId must be a non-empty string');
  if (p.audience !== undefined && (typeof p.audience !== 'string' || p.audience.length < 1 || p.audience.length > 256))
    problems.push('audience must be a non-empty string');
  const baseUrl = p.baseUrl === undefined ? issuer : checkUrl(p.baseUrl, 'baseUrl', opts, problems);

  // No prototype: a group literally named `__proto__` or `constructor` must stay just a group.
  const mapRoles: Record<string, string[]> = Object.create(null);
  if (p.mapRoles !== undefined) {
    if (!p.mapRoles || typeof p.mapRoles !== 'object' || Array.isArray(p.mapRoles)) {
      problems.push('mapRoles must be an object of IdP group → role(s)');
    } else {
      for (const [group, roles] of Object.entries(p.mapRoles)) {
        if (group.length < 1 || group.length > 256) problems.push('mapRoles keys must be 1-256 characters');
        mapRoles[group] = checkRoles(roles, `mapRoles[${JSON.stringify(group)}]`, problems);
      }
    }
  }
  const defaultRoles = p.defaultRoles === undefined ? ['user'] : checkRoles(p.defaultRoles, 'defaultRoles', problems);
  const privileged = defaultRoles.filter((r) => FORBIDDEN_DEFAULT_ROLES.includes(r));
  if (privileged.length)
    problems.push(
      `defaultRoles must not contain ${privileged.join(', ')} (map an IdP group to it in mapRoles instead)`,
    );
  const rolesClaim = optionalClaim(p.rolesClaim, 'rolesClaim', problems);
  if (Object.keys(mapRoles).length && !rolesClaim) problems.push('mapRoles needs rolesClaim (e.g. "groups")');
  const tenantsClaim = optionalClaim(p.tenantsClaim, 'tenantsClaim', problems);

  let allowedAlgorithms = DEFAULT_ALGORITHMS;
  if (p.allowedAlgorithms !== undefined) {
    const algs = p.allowedAlgorithms;
    if (!Array.isArray(algs) || algs.length === 0) {
      problems.push('allowedAlgorithms must be a non-empty list');
    } else {
      const bad = algs.filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(a));
      if (bad.length)
        problems.push(
          `allowedAlgorithms may only hold ${ASYMMETRIC_ALGORITHMS.join(', ')} (not ${bad.map((b) => JSON.stringify(b)).join(', ')}: "none" and HMAC are never accepted)`,
        );
      allowedAlgorithms = [...new Set(algs as string[])];
    }
  }
  if (problems.length) return null;
  return {
    name: p.name as string,
    issuer: issuer!,
    clientId: p.clientId as string,
    audience: (p.audience as string | undefined) ?? (p.clientId as string),
    baseUrl: baseUrl!,
    rolesClaim,
    mapRoles,
    defaultRoles,
    tenantsClaim,
    allowedAlgorithms,
  };
}

const sameIssuer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * OIDC_PROVIDERS is a JSON array, or the path of a file holding one (for a mounted ConfigMap).
 * Every problem is reported at once, each naming the variable and the provider.
 */
export function parseOidcProviders(raw: string | undefined, opts: ParseOptions): OidcProvider[] {
  if (raw === undefined || raw.trim() === '') return [];
  let text = raw.trim();
  if (!text.startsWith('[')) {
    if (text.startsWith('{')) throw new OidcConfigError('OIDC_PROVIDERS must be a JSON array of providers');
    try {
      text = (opts.readFile ?? ((f) => readFileSync(f, 'utf8')))(text);
    } catch (err) {
      throw new OidcConfigError(
        `OIDC_PROVIDERS is neither a JSON array nor a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    throw new OidcConfigError(`OIDC_PROVIDERS is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(list)) throw new OidcConfigError('OIDC_PROVIDERS must be a JSON array of providers');
  const errors: string[] = [];
  const providers: OidcProvider[] = [];
  const labels: string[] = [];
  list.forEach((entry, i) => {
    const problems: string[] = [];
    const provider = parseProvider(entry, opts, problems);
    const label = `OIDC_PROVIDERS[${i}]${typeof entry?.name === 'string' ? ` (${entry.name})` : ''}`;
    for (const p of problems) errors.push(`${label}: ${p}`);
    if (provider) {
      if (providers.some((o) => o.name === provider.name)) errors.push(`${label}: name is used twice`);
      // One provider per client of an issuer: with two for the same audience, which role mapping
      // a token gets would hang on the order of this list (discovery ignores a trailing slash).
      const same = providers.findIndex(
        (o) => sameIssuer(o.issuer, provider.issuer) && o.audience === provider.audience,
      );
      if (same >= 0) errors.push(`${label}: issuer and audience are those of ${labels[same]}`);
      providers.push(provider);
      labels.push(label);
    }
  });
  if (errors.length) throw new OidcConfigError(errors.join('; '));
  return providers;
}

/**
 * Plain http off loopback only for the test suites' IdPs: NODE_ENV defaults to development, so a
 * deployment that forgot to set it would otherwise fetch the keys that vouch for identities in clear.
 */
export const optionsFor = (env: { NODE_ENV?: string }): ParseOptions => ({
  allowInsecureHttp: env.NODE_ENV === 'test',
});

/** Lets the boot-time environment validation reject a bad OIDC_PROVIDERS with the parser's own words. */
export const OidcProviders = () =>
  EnvCheck('oidcProviders', (value, args) => {
    if (value !== undefined && typeof value !== 'string') return 'OIDC_PROVIDERS must be a string';
    try {
      parseOidcProviders(value, optionsFor(args.object as { NODE_ENV?: string }));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  });
