import { PortcullisError } from '@portcullis/contracts';

type Body = Record<string, unknown>;

/**
 * The native API names a client two ways: the login and extended tokens `clientId`/`clientSecret`,
 * the refresh and `POST /tokens` `client_id`/`client_secret` (as OAuth does). A client that logged in
 * with `clientId` and `clientSecret` and refreshed with the same names was refused (400, unknown
 * fields). Those routes take either spelling; auth-core gets the one its payload names. Both
 * spellings with different values are refused, naming both: neither is silently preferred.
 */
export function oneSpelling<T extends object>(body: T, pairs: ReadonlyArray<readonly [string, string]>): T {
  const given = body as Body;
  if (!pairs.some(([, alias]) => given[alias] !== undefined)) return body;
  const folded: Body = { ...given };
  const problems: Array<{ field: string; errors: string[] }> = [];
  for (const [name, alias] of pairs) {
    if (given[alias] === undefined) continue;
    // auth-core refuses a null, but would name the field by the spelling it was folded into.
    if (given[alias] === null) {
      problems.push({ field: alias, errors: [`${alias} must not be null (leave it out instead)`] });
      continue;
    }
    if (given[name] !== undefined && given[name] !== given[alias]) {
      problems.push({ field: name, errors: [`${name} and ${alias} name the same field: give one`] });
      problems.push({ field: alias, errors: [`${name} and ${alias} name the same field: give one`] });
    }
    folded[name] = given[alias];
    delete folded[alias];
  }
  if (problems.length)
    throw new PortcullisError('BAD_REQUEST', `Invalid request: ${problems.map((c) => c.field).join(', ')}`, problems);
  return folded as T;
}

export const LOGIN_CLIENT_SPELLINGS = [
  ['clientId', 'client_id'],
  ['clientSecret', 'client_secret'],
] as const;
export const REFRESH_CLIENT_SPELLINGS = [
  ['client_id', 'clientId'],
  ['client_secret', 'clientSecret'],
] as const;
export const TOKEN_CLIENT_SPELLINGS = [['client_id', 'clientId']] as const;
