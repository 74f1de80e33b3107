import { PortcullisError } from '@portcullis/contracts';
import { Actor, can } from '../tokens/actor.service';

/**
 * Resolves which user a `/users/me/…` or `/users/{id}/…` request acts on: the caller itself,
 * or, with `users:write`, any user.
 */
export function targetUserId(actor: Actor, userId: string | undefined): string {
  if (userId === undefined || (actor.isUser && userId === actor.principalId)) {
    if (!actor.isUser) throw new PortcullisError('FORBIDDEN', 'Only a user token has a user of its own');
    return actor.principalId;
  }
  if (!can(actor, 'users:write')) throw new PortcullisError('FORBIDDEN', 'Acting on another user needs users:write');
  return userId;
}

/**
 * A federated user authenticates at its IdP (MFA, disable there) and gets its roles from it at
 * each sign-in: a password here would be a way around both, so none is set (login refuses one).
 */
export function assertMayHavePassword(user: { source: string; username: string }): void {
  if (user.source !== 'oidc') return;
  const provider = user.username.split(':')[0];
  throw new PortcullisError(
    'CONFLICT',
    `User ${user.username} signs in at identity provider ${provider} and has no password here`,
  );
}

/** A token asked for by a user disabled or deleted since its credential was judged. */
export const USER_GONE = 'The user is disabled or no longer exists';
