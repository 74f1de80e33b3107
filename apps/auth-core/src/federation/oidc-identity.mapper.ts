import { createHash } from 'node:crypto';
import { TENANT_PATTERN } from '@portcullis/contracts';
import { OidcProvider } from './oidc-providers.config';

/** An IdP can put any number of groups in a token; past this many the rest are ignored. */
const MAX_CLAIM_VALUES = 1000;
const MAX_TENANTS = 100;
const USERNAME_MAX = 128;

/**
 * A claim by its exact name first (Auth0-style names are URLs full of dots), then as a dotted
 * path into nested objects (Keycloak's `realm_access.roles`).
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const key of path.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.slice(0, MAX_CLAIM_VALUES).filter((v): v is string => typeof v === 'string');
}

/**
 * Roles come only from the provider's configuration: its default roles plus what its groups
 * map to. A group name is never taken as a role, so an IdP cannot invent `admin`.
 */
export function rolesFor(provider: OidcProvider, claims: Record<string, unknown>): string[] {
  const roles = new Set(provider.defaultRoles);
  if (provider.rolesClaim) {
    for (const group of stringsOf(claimAt(claims, provider.rolesClaim))) {
      if (Object.hasOwn(provider.mapRoles, group)) for (const r of provider.mapRoles[group]) roles.add(r);
    }
  }
  return [...roles].sort();
}

/** Tenants from the configured claim; null when the provider has none (tenants stay as they are). */
export function tenantsFor(provider: OidcProvider, claims: Record<string, unknown>): string[] | null {
  if (!provider.tenantsClaim) return null;
  // `*` means every tenant to Portcullis: an IdP may not grant that.
  const tenants = stringsOf(claimAt(claims, provider.tenantsClaim)).filter((t) => t !== '*' && TENANT_PATTERN.test(t));
  return [...new Set(tenants)].sort().slice(0, MAX_TENANTS);
}

/**
 * The stable key of an external user. OIDC Core §5.7: only `iss` + `sub` identify a user; an
 * email can be re-assigned or claimed at another IdP. Issuers carry no fragment, so `#` splits.
 */
export function externalSubject(issuer: string, sub: string): string {
  return `${issuer}#${sub}`;
}

/**
 * Local usernames cannot contain `:`, so `provider:sub` never collides with one; a subject too
 * long for the column is replaced by its hash.
 */
export function usernameFor(provider: OidcProvider, sub: string): string {
  const plain = `${provider.name}:${sub}`;
  if (plain.length <= USERNAME_MAX) return plain;
  return `${provider.name}:${createHash('sha256').update(sub).digest('base64url')}`;
}
