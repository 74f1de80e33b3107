import { AccessTokenClaims } from '@portcullis/contracts';

/**
 * The family a token minted from `parent` joins, so that whatever ends the parent's line ends it
 * too: a login session's refresh family (logout, refresh-token reuse, revoking the family), an API
 * key's id (deleting the key), a PAT's id (deleting the PAT). A token minted from a derived token
 * joins the same family, however long the chain. None for a client's own token: its line is the
 * client, and disabling or deleting the client refuses every token it owns.
 */
export function lineageOf(parent: AccessTokenClaims): string | undefined {
  if (parent.fam) return parent.fam;
  if (parent.typ === 'pat') return parent.jti;
  return undefined;
}
