export const TOKEN_TYPES = ['user', 'client', 'system', 'extended', 'apikey', 'pat'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** The claims of a Portcullis access token (SPEC §3). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  nbf?: number;
  jti: string;
  cid: string;
  /**
   * RFC 9068 §2.2 (required in a JWT of `typ` at+jwt, which resource servers such as Spring
   * Security's check): the same client as `cid`, as introspection's `client_id` says. Absent from
   * tokens issued before it was added.
   */
  client_id?: string;
  rcid: string;
  typ: TokenType;
  roles: string[];
  tenants: string[];
  perms?: string[];
  /** Refresh-token family, so logout can revoke the family of the presented access token. */
  fam?: string;
}

export const DEFAULT_ROLES = ['admin', 'user', 'service', 'system'] as const;

export const PERMISSIONS = [
  'tokens:read',
  'tokens:write',
  'tokens:admin',
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
  'keys:admin',
  'audit:read',
  'token:validate',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Default role → permission map; ROLE_PERMISSIONS replaces it role by role (parseRolePermissions).
 * A service account sees its own client (`/clients/me`, its API keys) without `clients:read`; that
 * permission would show it every other client and their keys, so it is not a default.
 */
export const DEFAULT_ROLE_PERMISSIONS: Record<string, readonly Permission[]> = {
  admin: PERMISSIONS,
  user: ['tokens:read', 'tokens:write', 'token:validate'],
  service: ['tokens:read', 'tokens:write', 'token:validate'],
  system: ['tokens:read', 'tokens:write', 'token:validate', 'clients:read', 'users:read'],
};

/**
 * The role map of a ROLE_PERMISSIONS value: a JSON object of role → permissions, each role named
 * replacing its default, other roles kept. `admin` is everything (SPEC §2) and cannot be changed.
 * Throws an Error saying what is wrong; the apps' env validation turns it into a boot failure
 * naming the variable.
 */
export function parseRolePermissions(raw: string | undefined): Record<string, readonly string[]> {
  if (raw === undefined || raw.trim() === '') return DEFAULT_ROLE_PERMISSIONS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON object of role → permissions');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('must be a JSON object of role → permissions');
  const map: Record<string, readonly string[]> = { ...DEFAULT_ROLE_PERMISSIONS };
  for (const [role, perms] of Object.entries(parsed)) {
    if (!/^[a-z][a-z0-9_.:-]{0,63}$/.test(role)) throw new Error(`role "${role}" is not a valid role name`);
    if (role === 'admin') throw new Error('the admin role is every permission and cannot be changed');
    if (!Array.isArray(perms) || perms.some((p) => typeof p !== 'string'))
      throw new Error(`role "${role}" must map to an array of permissions`);
    const unknown = (perms as string[]).filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
    if (unknown.length) throw new Error(`role "${role}" names unknown permissions: ${unknown.join(', ')}`);
    map[role] = [...new Set(perms as string[])];
  }
  return map;
}

let configured: Record<string, readonly string[]> | undefined;

/**
 * This process's role map, from ROLE_PERMISSIONS (read once). Every process that judges
 * permissions — auth-core, the gateway, a service using the SDK's local mode — must be given the
 * same value.
 */
export function rolePermissions(): Record<string, readonly string[]> {
  return (configured ??= parseRolePermissions(process.env.ROLE_PERMISSIONS));
}

export function permissionsOf(
  roles: readonly string[],
  map: Record<string, readonly string[]> = rolePermissions(),
): string[] {
  const out = new Set<string>();
  for (const role of roles) for (const p of map[role] ?? []) out.add(p);
  return [...out].sort();
}
