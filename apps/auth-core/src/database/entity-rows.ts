import { DataSource } from 'typeorm';

/**
 * A hand-written `INSERT … SELECT` of all of an entity's columns from one JSON parameter, and the
 * encoder of that parameter: one statement stores whole rows (`json_populate_record` for one row,
 * `json_populate_recordset` for many) in the table's own types, with the column names taken from
 * TypeORM's metadata rather than written out again.
 */
export interface JsonInsert<E> {
  sql: string;
  /** The parameter: rows keyed by column, bytea in PostgreSQL's hex text form. */
  json(rows: E | E[]): string;
}

export function insertFromJson<E extends object>(
  ds: DataSource,
  entity: new () => E,
  param: string,
  rows: 'one' | 'many',
): JsonInsert<E> {
  const meta = ds.getMetadata(entity);
  const columns = meta.columns.map((c) => [c.propertyName, c.databaseName] as const);
  const list = columns.map(([, db]) => db).join(', ');
  const from = rows === 'one' ? 'json_populate_record' : 'json_populate_recordset';
  const row = (e: E) => {
    const values = e as Record<string, unknown>;
    return Object.fromEntries(
      columns.map(([prop, db]) => {
        const v = values[prop] ?? null;
        return [db, Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : v];
      }),
    );
  };
  return {
    sql: `INSERT INTO ${meta.tableName} (${list}) SELECT ${list} FROM ${from}(NULL::${meta.tableName}, ${param}::json)`,
    json: (r) => JSON.stringify(Array.isArray(r) ? r.map(row) : row(r)),
  };
}
