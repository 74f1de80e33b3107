import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '@portcullis/contracts';
import { setRetryAfter } from '../auth/failed-login-throttle.service';
import { methodNotAllowed } from '../errors/method-not-allowed';
import { logUnexpected } from '../errors/unexpected-error';
import { usesPost } from './client-auth';
import { InvalidRequest, OAuthError, ServerError, toOAuthError } from './oauth-error';

const FORM_OR_JSON = /^application\/(x-www-form-urlencoded|json)\b/i;
const FORM = /^application\/x-www-form-urlencoded\b/i;

/**
 * RFC 6749 §3.2: a parameter sent more than once is invalid_request. The form parser makes it a
 * list, which the DTO then refuses as if it were malformed; the answer says what happened instead.
 */
function ofRepeatedParameters(exception: unknown, req: FastifyRequest): OAuthError | undefined {
  if (!(exception instanceof PortcullisError) || exception.code !== 'BAD_REQUEST' || !exception.details) return;
  if (!FORM.test(req.headers['content-type'] ?? '')) return;
  const body = req.body as Record<string, unknown> | undefined;
  const repeated = exception.details
    .map((d) => d.field)
    .filter((f) => Object.hasOwn(body ?? {}, f) && Array.isArray(body![f]));
  return repeated.length ? new InvalidRequest(`Parameters sent more than once: ${repeated.join(', ')}`) : undefined;
}

/**
 * A body of another type is read as no parameters at all (fetch sends a string as text/plain), so
 * a refusal of it names the content type rather than the parameters it seemed to lack.
 */
function ofContentType(err: OAuthError, req: FastifyRequest): OAuthError {
  if (err.error !== 'invalid_request' || err.status !== 400 || FORM_OR_JSON.test(req.headers['content-type'] ?? ''))
    return err;
  return new InvalidRequest(
    'Send the parameters as application/x-www-form-urlencoded (RFC 6749 §3.2) or application/json',
  );
}

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
        : (ofRepeatedParameters(exception, req) ?? ofContentType(toOAuthError(exception), req));
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
