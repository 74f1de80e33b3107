import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { badRequest } from '@portcullis/contracts';
import { Observable } from 'rxjs';

const FORM = /^application\/x-www-form-urlencoded\b/i;

/**
 * A route that takes no body refuses one, the way the routes with a body DTO refuse unknown fields:
 * `POST /keys/rotate {"alg":"HS256"}` must not rotate an ES256 key and answer 201 as if the
 * field had been heard. Routes that declare `@Body()` are left to the validation pipe.
 *
 * Form bodies are for the OAuth endpoints only (RFC 6749 asks for them there). Anywhere else a
 * browser on another site could post one without a CORS preflight — a login form aimed at
 * `/api/v1/auth/login` would sign the victim's browser in as the attacker — so the native API
 * takes JSON.
 */
@Injectable()
export class UnexpectedBodyInterceptor implements NestInterceptor {
  private readonly takesBody = new WeakMap<object, boolean>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<{ body?: unknown; url: string; headers: Record<string, unknown> }>();
    const body = req.body;
    if (FORM.test(String(req.headers['content-type'] ?? '')) && !req.url.startsWith('/oauth/'))
      throw badRequest([
        { field: 'content-type', errors: ['form bodies are accepted on /oauth/* only; send application/json'] },
      ]);
    if (body !== undefined && body !== null && !isEmptyObject(body) && !this.declaresBody(context))
      throw badRequest(
        typeof body === 'object' && !Array.isArray(body)
          ? Object.keys(body).map((field) => ({ field, errors: [`property ${field} should not exist`] }))
          : [{ field: 'body', errors: ['this route takes no body'] }],
      );
    return next.handle();
  }

  private declaresBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let known = this.takesBody.get(handler);
    if (known === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as object;
      known = Object.keys(args).some((k) => k.startsWith(`${RouteParamtypes.BODY}:`));
      this.takesBody.set(handler, known);
    }
    return known;
  }
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0;
}
