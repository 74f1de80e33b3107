import { EnvCheck } from '@portcullis/contracts';

/**
 * What is wrong with a DATABASE_URL, or null. TypeORM and pg parse it only when they first
 * connect, and a value they cannot parse (a port out of range, a `%` that is no escape) then ends
 * the process as a bare "Invalid URL" or "URI malformed" stack that never names the variable.
 * The value itself is never repeated: it holds the database password.
 */
export function databaseUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return 'DATABASE_URL must be set (postgres://…)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'DATABASE_URL must be a postgres:// URL (it does not parse as one: check the host and port)';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return 'DATABASE_URL must be a postgres:// URL';
  try {
    // As TypeORM reads them: each `%` must start an escape (write a literal one as %25).
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return 'DATABASE_URL user and password must be URL-encoded (a literal % is written %25)';
  }
  return null;
}

export const DatabaseUrl = () => EnvCheck('databaseUrl', databaseUrlProblem);
