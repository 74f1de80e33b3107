import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { PortcullisError, WireError } from '@portcullis/contracts';
import { Observable, throwError } from 'rxjs';

/**
 * Every error leaving auth-core becomes {code, message}. Domain errors keep their code; anything
 * else is logged here and reported as INTERNAL without its message, which may hold internals.
 * A lost database connection is UNAVAILABLE so callers answer 503, not 500.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<WireError> {
    if (exception instanceof PortcullisError) return throwError(() => exception.toWire());
    if (isDatabaseUnavailable(exception)) {
      return throwError(() => ({ code: 'UNAVAILABLE', message: 'Database unavailable', details: null }) as WireError);
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return throwError(() => ({ code: 'INTERNAL', message: 'Internal error', details: null }) as WireError);
  }
}

const UNAVAILABLE_PATTERNS = [
  /ECONNREFUSED/,
  /Connection terminated/,
  /timeout exceeded when trying to connect/,
  /ENOTFOUND/,
  /terminating connection/,
  /Client has encountered a connection error/,
  /Query read timeout/,
  /canceling statement due to statement timeout/,
];

export function isDatabaseUnavailable(err: unknown): boolean {
  const message = err instanceof Error ? `${err.message} ${(err as { code?: string }).code ?? ''}` : String(err);
  return UNAVAILABLE_PATTERNS.some((p) => p.test(message)) || (err as { code?: string })?.code === '57P01';
}
