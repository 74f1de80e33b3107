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

/** Default role → permission map; configuration may replace it (ROLE_PERMISSIONS). */
export const DEFAULT_ROLE_PERMISSIONS: Record<string, readonly Permission[]> = {
  admin: PERMISSIONS,
  user: ['tokens:read', 'tokens:write', 'token:validate'],
  service: ['tokens:read', 'tokens:write', 'token:validate', 'clients:read'],
  system: ['tokens:read', 'tokens:write', 'token:validate', 'clients:read', 'users:read'],
};

export function permissionsOf(
  roles: readonly string[],
  map: Record<string, readonly string[]> = DEFAULT_ROLE_PERMISSIONS,
): string[] {
  const out = new Set<string>();
  for (const role of roles) for (const p of map[role] ?? []) out.add(p);
  return [...out].sort();
}
