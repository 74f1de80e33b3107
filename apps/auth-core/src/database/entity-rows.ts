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

/**
 * `INSERT … SELECT` of all the entity's columns from a JSON parameter — one row
 * (`json_populate_record`) or many (`json_populate_recordset`) — typed by the table itself.
 */
export function insertFromJson(
  ds: DataSource,
  entity: new () => object,
  param: string,
  rows: 'one' | 'many',
): { columns: Columns; sql: string } {
  const columns = columnsOf(ds, entity);
  const table = ds.getMetadata(entity).tableName;
  const list = columns.map(([, db]) => db).join(', ');
  const from = rows === 'one' ? 'json_populate_record' : 'json_populate_recordset';
  return { columns, sql: `INSERT INTO ${table} (${list}) SELECT ${list} FROM ${from}(NULL::${table}, ${param}::json)` };
}

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
