import { Page, PortcullisError } from '@portcullis/contracts';
import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * The `nextCursor` of every listing: the sort key of the page's last row, as base64url JSON. The
 * key is checked when it comes back, part by part, so a cursor this API did not return answers 400
 * instead of being read as some position in the list (an empty page, or rows skipped, unnoticed).
 */
export type KeyPart = (value: string) => boolean;

/**
 * Exactly what encodeCursor is given (`toISOString()` of a year 1-9999): Date.parse also takes
 * "12", "1 2", a 30th of February or a year PostgreSQL cannot hold, which failed the query (a 500).
 */
export const isTimestamp: KeyPart = (v) =>
  /^(?!0000)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v) && new Date(v).toISOString() === v;
export const isUuid: KeyPart = (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
export const isBoundedText =
  (max: number): KeyPart =>
  (v) =>
    v.length > 0 && v.length <= max;

export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, parts: readonly KeyPart[]): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(key) && key.length === parts.length && key.every((v, i) => typeof v === 'string' && parts[i](v)))
      return key as string[];
  } catch {
    /* not JSON: refused below */
  }
  throw new PortcullisError('BAD_REQUEST', 'Invalid cursor', [
    { field: 'cursor', errors: ['cursor is not one this API returned'] },
  ]);
}

/**
 * One page of `qb`'s rows, newest first, keyset-paged on (created_at, id): the order of the PAT and
 * API-key listings, whose rows are created and deleted but never move.
 */
export async function newestFirstPage<T extends ObjectLiteral & { createdAt: Date; id: string }>(
  qb: SelectQueryBuilder<T>,
  limit: number,
  cursor?: string,
): Promise<Page<T>> {
  const a = qb.alias;
  qb.orderBy(`${a}.created_at`, 'DESC')
    .addOrderBy(`${a}.id`, 'DESC')
    .limit(limit + 1);
  if (cursor) {
    const [ts, id] = decodeCursor(cursor, [isTimestamp, isUuid]);
    qb.andWhere(`(${a}.created_at, ${a}.id) < (:ts::timestamptz, :id::uuid)`, { ts, id });
  }
  const rows = await qb.getMany();
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > limit ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
  };
}
