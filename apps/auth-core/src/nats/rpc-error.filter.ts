import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { PortcullisError, WireError } from '@portcullis/contracts';
import { Observable, throwError } from 'rxjs';
import { sqlState } from '../database/sql-state';

/**
 * Every error leaving auth-core becomes {code, message}. Domain errors keep their code; anything
 * else is logged here and reported as INTERNAL without its message, which may hold internals.
 * A lost database connection is UNAVAILABLE so callers answer 503, not 500.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<WireError> {
    const wire = wireErrorOf(exception, this.logger);
    return throwError(() => wire);
  }
}

/** The {code, message} an error leaves auth-core as (see RpcErrorFilter); unexpected ones are logged. */
export function wireErrorOf(exception: unknown, logger: Pick<Logger, 'error'>): WireError {
  if (exception instanceof PortcullisError) return exception.toWire();
  if (isDatabaseUnavailable(exception)) return { code: 'UNAVAILABLE', message: 'Database unavailable', details: null };
  if (isConcurrencyFailure(exception)) {
    // Worth knowing about (a lock order the writes do not keep), but the request itself may just be retried.
    logger.error(exception instanceof Error ? exception.message : String(exception));
    return { code: 'UNAVAILABLE', message: 'A concurrent change got in the way; retry the request', details: null };
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  return { code: 'INTERNAL', message: 'Internal error', details: null };
}

const UNAVAILABLE_PATTERNS = [
  /ECONNREFUSED/,
  /ECONNRESET/,
  /EPIPE/,
  /Connection terminated/,
  /timeout exceeded when trying to connect/,
  /ENOTFOUND/,
  // DATABASE_URL's socket form: a stopped PostgreSQL removes its socket file.
  /connect ENOENT .*\.s\.PGSQL\.\d+/,
  /terminating connection/,
  /Client has encountered a connection error/,
  /Client was closed and is not queryable/,
  /Connection is closed/,
  /Query read timeout/,
  /canceling statement due to statement timeout/,
  // While PostgreSQL restarts after a crash it refuses new sessions until recovery is done.
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/,
];

/**
 * SQLSTATE classes that mean "the database is not there right now", not "the request is wrong":
 * 08 connection exception, 57P operator intervention (shutdown, crash, cannot connect now),
 * 53300 too many connections. TypeORM keeps the driver's error as `driverError`.
 */
const UNAVAILABLE_SQLSTATE = /^(08|57P)|^53300$/;

/**
 * PostgreSQL ended the transaction so that another could go on: 40P01 deadlock_detected, 40001
 * serialization_failure. Nothing of it was written and the same request can succeed when sent again:
 * a 503 (retryable), not a 500.
 */
export const isConcurrencyFailure = (err: unknown): boolean => /^40(P01|001)$/.test(sqlState(err));

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (UNAVAILABLE_SQLSTATE.test(code)) return true;
  const message = err instanceof Error ? `${err.message} ${code}` : String(err);
  return UNAVAILABLE_PATTERNS.some((p) => p.test(message));
}
