import { AccessTokenClaims } from '@portcullis/contracts';
import { isUuid } from '../database/keyset-cursor';

/**
 * The user a token speaks for, or null. A token's `sub` is a user id only for a user's own session
 * and PAT tokens; every other kind names a client (whose id may itself look like a uuid).
 */
export const userIdOf = (c: Pick<AccessTokenClaims, 'typ' | 'sub'>): string | null =>
  (c.typ === 'user' || c.typ === 'pat') && isUuid(c.sub) ? c.sub : null;
