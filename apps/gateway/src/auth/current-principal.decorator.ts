import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedPrincipal } from './bearer.strategy';

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthenticatedPrincipal =>
    ctx.switchToHttp().getRequest<{ user: AuthenticatedPrincipal }>().user,
);

export const RequestId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined =>
  String(ctx.switchToHttp().getRequest<{ id?: string }>().id ?? ''),
);
