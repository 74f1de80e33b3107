import { Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isDeadlock } from './sql-state';

/** Attempts in all; the last failure goes to the caller (RpcErrorFilter answers it 503, retryable). */
const ATTEMPTS = 3;
const logger = new Logger('RetryingTransaction');

/**
 * `ds.transaction(work)`, run again (up to ATTEMPTS in all, after a short random pause) when
 * PostgreSQL ends it to break a deadlock (40P01), as its documentation advises: the writes that meet
 * sweep tokens in orders no single lock order serves (a refresh claims its refresh token and then
 * writes an access token; a password change holds its caller's access token and then sweeps refresh
 * tokens; DELETE /tokens/all needs both), and the one ended would succeed a moment later.
 *
 * Only for work whose effects outside PostgreSQL before it commits are announcements of what it
 * writes (revocations, a disable, applied to this replica's memory and published): a deadlock
 * stops a statement that waits for a lock, and the attempt that follows writes and announces the
 * same again (announcing a revocation twice changes nothing). Nothing is announced that no attempt
 * commits, unless every attempt fails, as any failure after an announcement already allowed.
 */
export async function retryingTransaction<T>(ds: DataSource, work: (m: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.transaction(work);
    } catch (err) {
      if (attempt >= ATTEMPTS || !isDeadlock(err)) throw err;
      logger.warn(`Deadlock, attempt ${attempt} of ${ATTEMPTS} rolled back; running it again`);
      // Apart, so two rivals ended at once do not meet again in step.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}
