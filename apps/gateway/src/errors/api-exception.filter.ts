import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { setRetryAfter } from '../auth/failed-login-throttle.service';
import { FastifyReply, FastifyRequest } from 'fastify';
import { codeForHttpStatus, envelope, ErrorCode, HTTP_STATUS_OF, PortcullisError } from '@portcullis/contracts';
import { OAuthExceptionFilter } from '../oauth/oauth-exception.filter';
import { SEND_JSON } from './input-rules.hook';
import { methodNotAllowed } from './method-not-allowed';
import { logUnexpected } from './unexpected-error';

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * RFC 6750 §3.1: a bearer that was presented and refused is `invalid_token`; a request that sent
 * none gets the bare challenge (no error code: it did not try). A presented bearer that lacks a
 * permission, role or tenant (FORBIDDEN) is `insufficient_scope`; other refusals carry none.
 */
function challenge(req: FastifyRequest, code: ErrorCode): string | null {
  const bearer = /^bearer\s/i.test(req.headers.authorization ?? '');
  if (HTTP_STATUS_OF[code] === 401) return bearer ? 'Bearer error="invalid_token"' : 'Bearer';
  return code === 'FORBIDDEN' && bearer ? 'Bearer error="insufficient_scope"' : null;
}

/**
 * The native API's single error exit: coded errors from auth-core or validation, Nest's HTTP
 * exceptions and Fastify's own (413, bad JSON) all leave in the SPEC §4 envelope. Anything
 * unexpected is logged and answered as INTERNAL without its message.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');
  private readonly oauth = new OAuthExceptionFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    // Errors raised before a route's own filter runs (unparsable or oversized bodies, unsupported
    // content types) still answer /oauth/* clients in RFC 6749 form.
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    if ((req.url ?? '').startsWith('/oauth/')) return this.oauth.catch(exception, host);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const wrongMethod = methodNotAllowed(req);
    if (wrongMethod) reply.header('Allow', wrongMethod.allow);
    const { code, message, details } = wrongMethod
      ? { code: 'METHOD_NOT_ALLOWED' as const, message: wrongMethod.message, details: null }
      : this.describe(exception, host);
    const body = envelope(code, message, details);
    // Every 401 names its scheme (RFC 9110 §15.5.2), a refused refresh token (INVALID_GRANT) too.
    const scheme = challenge(req, code);
    if (scheme) reply.header('WWW-Authenticate', scheme);
    setRetryAfter(exception, reply);
    void reply.status(HTTP_STATUS_OF[code]).send(body);
  }

  private describe(
    exception: unknown,
    host: ArgumentsHost,
  ): { code: ErrorCode; message: string; details: PortcullisError['details'] } {
    if (exception instanceof PortcullisError)
      return { code: exception.code, message: exception.message, details: exception.details };
    // A content type the gateway has no parser for (415, from Fastify or through Nest): bad input
    // like any other, the field named.
    if (
      (exception instanceof HttpException && exception.getStatus() === 415) ||
      (exception as FastifyLikeError)?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
    )
      return { code: 'BAD_REQUEST', message: 'Invalid request: content-type', details: SEND_JSON };
    if (exception instanceof HttpException) {
      const code = codeForHttpStatus(exception.getStatus());
      const res = exception.getResponse() as { message?: string | string[] } | string;
      const message =
        typeof res === 'string'
          ? res
          : Array.isArray(res.message)
            ? res.message.join('; ')
            : (res.message ?? exception.message);
      return { code, message: code === 'INTERNAL' ? 'Internal error' : message, details: null };
    }
    const fe = exception as FastifyLikeError;
    if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return { code: codeForHttpStatus(fe.statusCode), message: fe.message ?? 'Bad request', details: null };
    }
    logUnexpected(this.logger, exception, host);
    return { code: 'INTERNAL', message: 'Internal error', details: null };
  }
}
