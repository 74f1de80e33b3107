import { AccessTokenClaims, permissionsOf } from '@portcullis/contracts';

export interface Requirements {
  roles?: string[];
  permissions?: string[];
  tenant?: string;
}

export type PrincipalKind = 'user' | 'client';

/**
 * Whether the principal behind a token is disabled: the user for user tokens and PATs, the
 * client the token belongs to for every kind. Shared by auth-core and the SDK's local mode.
 */
export function ownerDisabled(c: AccessTokenClaims, isDisabled: (kind: PrincipalKind, id: string) => boolean): boolean {
  const userToken = c.typ === 'user' || c.typ === 'pat';
  return (
    (userToken && isDisabled('user', c.sub)) ||
    isDisabled('client', c.cid) ||
    (!userToken && isDisabled('client', c.sub))
  );
}

/** The first requirement the token does not meet, as a message; null when it meets them all. */
export function missingRequirement(
  c: AccessTokenClaims,
  req: Requirements,
  roleMap?: Record<string, readonly string[]>,
): string | null {
  // A token narrowed to `perms` (a PAT, an API key's bearer, a scoped token) carries its owner's
  // roles, but holds a role only as far as the narrowing leaves it every permission of the role:
  // otherwise a read-only PAT of an admin would pass any gate on the admin role.
  const narrowed = c.perms;
  const lackingRoles = (req.roles ?? []).filter(
    (r) => !c.roles.includes(r) || (!!narrowed && permissionsOf([r], roleMap).some((p) => !narrowed.includes(p))),
  );
  if (lackingRoles.length) return `Missing role: ${lackingRoles.join(', ')}`;
  if (req.permissions?.length) {
    const held = c.perms ?? permissionsOf(c.roles, roleMap);
    const lacking = req.permissions.filter((p) => !held.includes(p));
    if (lacking.length) return `Missing permission: ${lacking.join(', ')}`;
  }
  if (req.tenant !== undefined && !c.tenants.includes(req.tenant) && !c.tenants.includes('*')) {
    return `Token is not valid for tenant ${req.tenant}`;
  }
  return null;
}

export const REVOKED_MESSAGE = 'Token has been revoked';
export const DISABLED_MESSAGE = 'Token owner is disabled';
