/**
 * The SQLSTATE of a failed query, or '': pg puts it on the error as `code`, and TypeORM's
 * QueryFailedError keeps the driver's error as `driverError`.
 */
export const sqlState = (err: unknown): string => {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return typeof e?.code === 'string' ? e.code : typeof e?.driverError?.code === 'string' ? e.driverError.code : '';
};

/** 40P01 deadlock_detected: PostgreSQL ended this transaction so that another could go on. */
export const isDeadlock = (err: unknown): boolean => sqlState(err) === '40P01';
