import type { Pool } from 'pg';
import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * A named prepared statement, run on the pg pool under TypeORM: PostgreSQL parses and plans it
 * once per connection instead of on every call. Only for the hot statements: a password login's
 * (which shares the CPUs with argon2: every ms PostgreSQL spends planning is a ms the hashes lose)
 * and the client_credentials group commit; everything else goes through TypeORM. Errors are pg's
 * own, which the RPC filter maps as before.
 */
export function preparedStatement<R extends object>(
  ds: DataSource,
  name: string,
  text: string,
): (values: unknown[]) => Promise<R[]> {
  return async (values) => {
    const pool = (ds.driver as unknown as { master: Pool }).master;
    return (await pool.query<R>({ name, text, values })).rows;
  };
}

/** Rows holding all of an entity's columns as entities (column names → property names). */
export function entityFromRow<E extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<E>): (row: object) => E {
  const columns = ds.getMetadata(entity).columns.map((c) => [c.propertyName, c.databaseName] as const);
  return (row) => {
    const values = row as Record<string, unknown>;
    return Object.fromEntries(columns.map(([prop, db]) => [prop, values[db]])) as E;
  };
}
