import { Injectable } from '@nestjs/common';
import { AccessTokenClaims, PERMISSIONS, permissionsOf, PortcullisError, TokenType } from '@portcullis/contracts';
import { EntityManager } from 'typeorm';
import { USER_GONE } from '../users/user-access';
import { UsersRepository } from '../users/users.repository';
import { TokenValidationService, unlessUnavailable } from './token-validation.service';

export interface Actor {
  claims: AccessTokenClaims;
  permissions: string[];
  /** The principal the actor's own tokens belong to (user id or client id). */
  principalId: string;
  isUser: boolean;
  /**
   * The token stands for its principal itself: a user's login session or a client's own
   * client_credentials token, not narrowed to permissions. Not a credential derived from one (PAT,
   * API key bearer, extended or system token) nor a narrowed token: those may not mint, delete or
   * rotate the principal's credentials, or a narrow, short-lived credential could make itself a
   * wide, long-lived one.
   */
  session: boolean;
}

/**
 * Turns the bearer a request carries into the acting principal. auth-core never trusts
 * claims handed to it over NATS: it validates the caller's token itself, from memory.
 */
@Injectable()
export class ActorService {
  constructor(
    private readonly validation: TokenValidationService,
    private readonly users: UsersRepository,
  ) {}

  async authenticate(auth: string, ...required: string[]): Promise<Actor> {
    const result = unlessUnavailable(await this.validation.validate(auth));
    if (!result.valid) throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    const claims = result.claims;
    const actor: Actor = {
      claims,
      permissions: claims.perms ?? permissionsOf(claims.roles),
      principalId: claims.sub,
      isUser: claims.typ === 'user' || claims.typ === 'pat',
      session: (claims.typ === 'user' || claims.typ === 'client') && claims.perms === undefined,
    };
    const missing = required.filter((p) => !actor.permissions.includes(p));
    if (missing.length) throw new PortcullisError('FORBIDDEN', `Missing permission: ${missing.join(', ')}`);
    return actor;
  }

  /**
   * For a token minted inside `manager`'s transaction at a user's request: the user must still exist
   * and be enabled, its row shared until the transaction ends. The user was judged in memory, maybe
   * just before a disable or a delete was announced; a token written after that one's revocation
   * would outlive it (at once when its subject is a client, which the user's disabled state does not
   * refuse). A disable or delete under way takes the row first and is waited for; one that comes
   * later waits for this token and revokes it with the others.
   */
  async requireUserStillHere(actor: Actor, manager: EntityManager): Promise<void> {
    if (!actor.isUser) return;
    const user = await this.users.findByIdLocked(actor.principalId, manager, 'pessimistic_read');
    if (!user?.enabled) throw new PortcullisError('UNAUTHENTICATED', USER_GONE);
  }
}

export const can = (actor: Actor, permission: string) => actor.permissions.includes(permission);

/**
 * Seconds a token minted by `actor` may live at most: what is left of a derived credential (a PAT,
 * an API key's bearer, a narrowed token), which mints nothing that outlives it; no bound for a
 * session, whose family ends what it mints.
 */
export const lifetimeLeft = (actor: Actor): number =>
  actor.session ? Infinity : actor.claims.exp - Math.floor(Date.now() / 1000);

/**
 * Refuses granting `roles` and `tenants`, or changing a principal that holds them, when they carry
 * a permission or a tenant the actor lacks: `clients:write` or `users:write` (a PAT narrowed to it,
 * a role ROLE_PERMISSIONS gives it) would otherwise make or take over an `admin`, or a principal of
 * another tenant (or of `*`), and so be one. `what` opens the message ("Granting roles admin",
 * "Changing client x").
 */
export function requireWithin(
  actor: Actor,
  roles: readonly string[],
  what: string,
  tenants: readonly string[] = [],
): void {
  const beyond = permissionsOf(roles).filter((p) => !actor.permissions.includes(p));
  if (beyond.length)
    throw new PortcullisError('FORBIDDEN', `${what} needs permissions this token lacks: ${beyond.join(', ')}`);
  const foreign = tenantsBeyond(actor, tenants);
  if (foreign.length)
    throw new PortcullisError('FORBIDDEN', `${what} needs tenants this token lacks: ${foreign.join(', ')}`);
}

/**
 * Those of `tenants` the actor's token does not carry (`*` carries every one, and is one only `*`
 * carries). Not for a holder of every permission: an administrator may give itself any tenant, so
 * its own list bounds nothing (and administrators often hold none).
 */
export function tenantsBeyond(actor: Actor, tenants: readonly string[]): string[] {
  const held = actor.claims.tenants ?? [];
  if (held.includes('*') || PERMISSIONS.every((p) => actor.permissions.includes(p))) return [];
  return tenants.filter((t) => !held.includes(t));
}

/**
 * The article each type is read with: by sound, not first letter ("an apikey" is "an API key",
 * "a user" starts with a "y" sound). A Record, so a new type cannot be added without one.
 */
const ARTICLE: Record<TokenType, 'A' | 'An'> = {
  user: 'A',
  client: 'A',
  system: 'A',
  extended: 'An',
  apikey: 'An',
  pat: 'A',
};

/** Refuses a request that changes its principal's own credentials unless the token is a session. */
export function requireSession(actor: Actor, what: string): void {
  if (!actor.session) {
    const typ = actor.claims.typ;
    throw new PortcullisError(
      'FORBIDDEN',
      actor.claims.perms !== undefined && (typ === 'user' || typ === 'client')
        ? `A token narrowed to permissions cannot ${what}`
        : `${ARTICLE[typ] ?? 'A'} ${typ} token cannot ${what}; use a login session or the client's own token`,
    );
  }
}
