import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { setRetryAfter } from '../auth/failed-login-throttle.service';
import { methodNotAllowed } from '../errors/method-not-allowed';
import { logUnexpected } from '../errors/unexpected-error';
import { OAuthError, ServerError, toOAuthError } from './oauth-error';

/** `/oauth/*` answers RFC 6749 errors instead of the native envelope. */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuthExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const wrongMethod = methodNotAllowed(req);
    if (wrongMethod) reply.header('Allow', wrongMethod.allow);
    const err = wrongMethod
      ? new OAuthError('invalid_request', wrongMethod.message, 405)
      : req.is404
        ? new OAuthError('invalid_request', `No such endpoint: ${req.method} ${req.url.split('?', 1)[0]}`, 404)
        : toOAuthError(exception);
    if (err instanceof ServerError) logUnexpected(this.logger, exception, host);
    // RFC 6749 §5.2: a client that tried Basic is told to use Basic again. Not on every 401 (as RFC
    // 9110 would have it): OAuth clients such as openid-client read a challenge on a 401 as a
    // request to authenticate differently and stop reading the RFC 6749 error in the body.
    const usedBasic = /^Basic /i.test(req.headers.authorization ?? '');
    if (err.status === 401 && usedBasic) reply.header('WWW-Authenticate', 'Basic realm="portcullis"');
    setRetryAfter(exception, reply);
    void reply
      .status(err.status)
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .send({ error: err.error, error_description: err.description });
  }
}
