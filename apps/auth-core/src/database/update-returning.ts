import { EntityManager } from 'typeorm';

/**
 * Runs an UPDATE … RETURNING and gives back the rows. TypeORM's postgres driver answers UPDATE
 * and DELETE with `[rows, rowCount]` but other statements with `rows`; this hides the difference.
 */
export async function updateReturning<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await manager.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
