import { DataSource } from 'typeorm';

/** Property → column pairs of an entity. */
export type Columns = Array<[string, string]>;

/**
 * An entity's columns from TypeORM's own metadata, for the few hand-written statements that store
 * whole rows as JSON (json_populate_record/-recordset): one statement instead of an INSERT per row,
 * without restating the column names.
 */
export function columnsOf(ds: DataSource, entity: new () => object): Columns {
  return ds.getMetadata(entity).columns.map((c) => [c.propertyName, c.databaseName]);
}

export const columnList = (cols: Columns): string => cols.map(([, db]) => db).join(', ');

/** The row as json_populate_record reads it: keyed by column, bytea in PostgreSQL's hex text form. */
export function columnValues(cols: Columns, entity: object): Record<string, unknown> {
  const e = entity as Record<string, unknown>;
  return Object.fromEntries(
    cols.map(([prop, db]) => {
      const v = e[prop] ?? null;
      return [db, Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : v];
    }),
  );
}
