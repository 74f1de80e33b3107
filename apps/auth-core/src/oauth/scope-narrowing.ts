import { permissionsOf, PortcullisError } from '@portcullis/contracts';

/** The scope tokens of a `scope` value (RFC 6749 §3.3: space-delimited), each once, in the order first given. */
export function scopeTokens(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
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
