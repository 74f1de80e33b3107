import { Injectable } from '@nestjs/common';
import { AccessTokenClaims, PERMISSIONS, permissionsOf, PortcullisError, TokenType } from '@portcullis/contracts';
import { EntityManager } from 'typeorm';
import { REVOKED_MESSAGE } from '@portcullis/jwt';
import { ApiKeysRepository } from '../credentials/api-keys.repository';
import { PatsRepository } from '../credentials/pats.repository';
import { isUuid } from '../database/keyset-cursor';
import { USER_GONE } from '../users/user-access';
import { UsersRepository } from '../users/users.repository';
import { AccessTokensRepository } from './access-tokens.repository';
import { lineageOf } from './token-lineage';
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
    private readonly accessTokens: AccessTokensRepository,
    private readonly pats: PatsRepository,
    private readonly apiKeys: ApiKeysRepository,
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
   * For a write made at the actor's request (a token or credential minted, a user or client
   * changed), inside `manager`'s transaction, before it writes: the actor's token must still be on
   * record and live (not revoked; a PAT not deleted nor expired) and a user's user still there and
   * enabled, each row shared until the transaction ends. The bearer was judged in memory, which hears
   * of a revocation or a disable made on another replica a moment after PostgreSQL does (SPEC §7
   * allows a second): what the write made then would outlive the credential that asked for it.
   * A revocation, disable or delete under way takes those rows first and is waited for, then seen.
   * One that comes later waits for this write and revokes what it minted only if it too takes one
   * of these rows before sweeping: the user's (a user's disable, delete, credentials removal, POST
   * /users/{id}/revoke, logout, DELETE /tokens) or the line's (deleting the API key or PAT a derived
   * token came from), or the client's row that the write also shares (a role change of the client a
   * token is minted for, POST /tokens for another client or for the caller's own); DELETE /tokens/all
   * holds the token table against writes instead (AccessTokensRepository.lockAgainstWrites).
   *
   * TARGET_FIRST: a transaction that also locks the user or client it changes takes that row before
   * calling this (as a disable or delete of it does), so two such changes meet in one order; a client
   * caller's own client row is taken with the target's, the two by id (ClientsRepository.getLockedFor).
   *
   * `userLock`: `pessimistic_write` when the transaction goes on to update the actor's own user row
   * (a password change), so two such requests queue instead of both sharing it and deadlocking.
   */
  async requireStillLive(
    actor: Actor,
    manager: EntityManager,
    userLock: 'pessimistic_read' | 'pessimistic_write' = 'pessimistic_read',
  ): Promise<void> {
    if (actor.isUser) {
      const user = await this.users.findByIdLocked(actor.principalId, manager, userLock);
      if (!user?.enabled) throw new PortcullisError('UNAUTHENTICATED', USER_GONE);
    }
    // The line before the token's own row, as deleting an API key or a PAT marks its row before
    // sweeping the tokens of its line: the other order deadlocks with that sweep.
    const lineLive = await this.lineLive(actor.claims, manager);
    const { typ, jti } = actor.claims;
    const live =
      typ === 'pat' ? await this.pats.isLiveLocked(jti, manager) : await this.accessTokens.isLiveLocked(jti, manager);
    if (!lineLive || !live) throw new PortcullisError('UNAUTHENTICATED', REVOKED_MESSAGE);
  }

  /**
   * The API key or PAT a derived token came from (its line, lineageOf), shared as well: deleting it
   * marks that row before sweeping the line, so a token minted here meanwhile is waited for and
   * swept with the rest, or the delete has committed and this write is refused. A session's line
   * (a refresh family) is neither, and ends through the token's own row.
   */
  private async lineLive(claims: AccessTokenClaims, manager: EntityManager): Promise<boolean> {
    const line = lineageOf(claims);
    if (!line || line === claims.jti || !isUuid(line)) return true;
    return (
      (await this.apiKeys.lineLiveLocked(line, manager)) ?? (await this.pats.lineLiveLocked(line, manager)) ?? true
    );
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
