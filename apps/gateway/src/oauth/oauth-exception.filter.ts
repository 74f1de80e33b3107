import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { setRetryAfter } from '../auth/failed-login-throttle.service';
import { logUnexpected } from '../errors/unexpected-error';
import { ServerError, toOAuthError } from './oauth-error';

/** `/oauth/*` answers RFC 6749 errors instead of the native envelope. */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuthExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const err = toOAuthError(exception);
    if (err instanceof ServerError) logUnexpected(this.logger, exception, host);
    // RFC 6749 §5.2: a client that tried Basic is told to use Basic again.
    const usedBasic = /^Basic /i.test(
      String(host.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization ?? ''),
    );
    if (err.status === 401 && usedBasic) reply.header('WWW-Authenticate', 'Basic realm="portcullis"');
    setRetryAfter(exception, reply);
    void reply
      .status(err.status)
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .send({ error: err.error, error_description: err.description });
  }
}
