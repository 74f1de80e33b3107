import { Client } from 'pg';
import { Stack } from './stack';

/**
 * Makes two requests meet at one point, every time: a lock taken here on the rows `lockSql` selects
 * (FOR UPDATE) stalls `first` there; `second` starts once `first` waits for it, and the lock goes
 * once `second` waits for a lock too (or has answered). What each answered, and whether `second` answered while
 * `first` was still held.
 */
export async function overlapAtRowLock<A, B>(
  stack: Stack,
  lockSql: string,
  params: readonly unknown[],
  first: () => Promise<A>,
  second: () => Promise<B>,
): Promise<{ first: A; second: B; secondAnsweredWhileHeld: boolean }> {
  const holder = new Client({ connectionString: stack.db.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(lockSql, [...params]);
    let secondDone = false;
    const a = first();
    await stack.lockWaiters(1);
    const b = second().finally(() => (secondDone = true));
    for (let i = 0; i < 200 && !secondDone; i++) {
      const [{ waiting }] = await stack.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (waiting >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const secondAnsweredWhileHeld = secondDone;
    await holder.query('ROLLBACK');
    return { first: await a, second: await b, secondAnsweredWhileHeld };
  } finally {
    await holder.end();
  }
}
