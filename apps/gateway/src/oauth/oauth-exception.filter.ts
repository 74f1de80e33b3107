import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { setRetryAfter } from '../auth/failed-login-throttle.service';
import { methodNotAllowed } from '../errors/method-not-allowed';
import { logUnexpected } from '../errors/unexpected-error';
import { usesPost } from './client-auth';
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
    // RFC 6749 §5.2: a client that tried Basic is told to use Basic again, and a caller that sent
    // no client credentials is told what it may use (RFC 9110 §15.5.2). Not on the 401 of a client
    // that failed client_secret_post: OAuth clients such as openid-client read a challenge on a 401
    // as a request to authenticate differently and stop reading the RFC 6749 error in the body.
    if (err.status === 401 && !usesPost(req.headers.authorization, req.body))
      reply.header('WWW-Authenticate', 'Basic realm="portcullis"');
    setRetryAfter(exception, reply);
    void reply
      .status(err.status)
      .header('Cache-Control', 'no-store')
      .header('Pragma', 'no-cache')
      .send({ error: err.error, error_description: err.description });
  }
}
