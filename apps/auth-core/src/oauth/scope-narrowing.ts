import { permissionsOf, PortcullisError } from '@portcullis/contracts';

/**
 * OpenID Connect's identity scopes (Core §5.4, §11). Portcullis issues no ID token and has no
 * userinfo endpoint, and OAuth client libraries ask for these by default (`openid profile email`),
 * so they are ignored, as RFC 6749 §3.3 allows, rather than refused: refused, every such client's
 * password grant failed with invalid_scope. They are never role names Portcullis grants by scope.
 */
export const IDENTITY_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];

/**
 * The scope tokens of a `scope` value (RFC 6749 §3.3: space-delimited) that narrow a grant: each
 * once, in the order first given, without the identity scopes.
 */
export function scopeTokens(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s && !IDENTITY_SCOPES.includes(s)))];
}

/** Whether a principal with these roles may be granted this scope token: one of its roles or permissions. */
export function holdsScope(roles: readonly string[], token: string): boolean {
  return roles.includes(token) || permissionsOf(roles).includes(token);
}

/** What a token asked for with a scope carries: roles, and `perms` when narrowed to permissions. */
export interface ScopedGrant {
  roles: string[];
  perms?: string[];
}

/**
 * The one rule every grant that takes a `scope` narrows by (client_credentials, password,
 * refresh_token): each scope token is a role or a permission the principal holds; the roles named
 * replace its roles, the permissions named become `perms`. Nothing asked is everything held. A
 * token it does not hold is refused (FORBIDDEN, `invalid_scope` at /oauth/token) rather than
 * dropped, so a client never holds less than it asked for without being told.
 */
export function narrowToScope(roles: readonly string[], requested: readonly string[], whose: string): ScopedGrant {
  const unknown = requested.filter((s) => !holdsScope(roles, s));
  if (unknown.length)
    throw new PortcullisError('FORBIDDEN', `Scope not allowed for this ${whose}: ${unknown.join(' ')}`);
  const scopeRoles = requested.filter((s) => roles.includes(s));
  const scopePerms = requested.filter((s) => !roles.includes(s));
  return {
    roles: scopeRoles.length ? scopeRoles : [...roles],
    ...(scopePerms.length ? { perms: scopePerms } : {}),
  };
}
