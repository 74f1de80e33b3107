import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { entityFromRow } from './prepared-statement';

/**
 * Inserts `row` unless a unique index already holds its like (a live credential of that name, its
 * owner's): the stored entity, or null. One statement, `ON CONFLICT DO NOTHING`: with a read before
 * the insert, two concurrent creations could both find the name free, and the second then failed
 * on the index as an internal error instead of a conflict.
 */
export async function insertUnlessTaken<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  row: QueryDeepPartialEntity<E>,
): Promise<E | null> {
  const result = await manager
    .createQueryBuilder()
    .insert()
    .into(entity)
    .values(row)
    .orIgnore()
    .returning('*')
    .execute();
  const [stored] = result.raw as object[];
  return stored ? entityFromRow(manager.connection, entity)(stored) : null;
}
