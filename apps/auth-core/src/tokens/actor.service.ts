import { Injectable } from '@nestjs/common';
import { AccessTokenClaims, permissionsOf, PortcullisError } from '@portcullis/contracts';
import { TokenValidationService } from './token-validation.service';

export interface Actor {
  claims: AccessTokenClaims;
  permissions: string[];
  /** The principal the actor's own tokens belong to (user id or client id). */
  principalId: string;
  isUser: boolean;
}

/**
 * Turns the bearer a request carries into the acting principal. auth-core never trusts
 * claims handed to it over NATS: it validates the caller's token itself, from memory.
 */
@Injectable()
export class ActorService {
  constructor(private readonly validation: TokenValidationService) {}

  async authenticate(auth: string, ...required: string[]): Promise<Actor> {
    const result = await this.validation.validate(auth);
    if (!result.valid) throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    const claims = result.claims;
    const actor: Actor = {
      claims,
      permissions: claims.perms ?? permissionsOf(claims.roles),
      principalId: claims.sub,
      isUser: claims.typ === 'user' || claims.typ === 'pat',
    };
    const missing = required.filter((p) => !actor.permissions.includes(p));
    if (missing.length) throw new PortcullisError('FORBIDDEN', `Missing permission: ${missing.join(', ')}`);
    return actor;
  }
}

export const can = (actor: Actor, permission: string) => actor.permissions.includes(permission);
