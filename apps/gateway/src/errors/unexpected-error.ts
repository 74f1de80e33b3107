import { ArgumentsHost, Logger } from '@nestjs/common';

/**
 * Logs an error no answer could describe, with the id of the request it broke, so the line can be
 * joined with auth-core's (which carry the same id). The error filters are the only code that logs
 * while the gateway handles a request, so they name the id themselves: an AsyncLocalStorage context
 * for it would put a hook on every promise of every request (bench/NOTES.md, session 11).
 */
export function logUnexpected(logger: Logger, exception: unknown, host: ArgumentsHost): void {
  const requestId = host.switchToHttp().getRequest<{ id?: string }>()?.id;
  logger.error({
    requestId,
    msg: exception instanceof Error ? exception.message : String(exception),
    stack: exception instanceof Error ? exception.stack : undefined,
  });
}
