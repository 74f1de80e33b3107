import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AccessTokenClaims } from '@portcullis/contracts';
import type { ValidationMode } from '../auth-client.options';

export const ROLES_KEY = 'portcullis:roles';
export const PERMISSIONS_KEY = 'portcullis:permissions';
export const TENANT_KEY = 'portcullis:tenant';
export const MODE_KEY = 'portcullis:mode';

/** Every listed role is required. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
/** Every listed permission is required (from the token's roles, or its narrowed `perms`). */
export const Permissions = (...permissions: string[]) => SetMetadata(PERMISSIONS_KEY, permissions);
/** The tenant the token must hold: a route parameter name, or a function of the request. */
export const Tenant = (paramOrFn: string | ((req: unknown) => string | undefined)) =>
  SetMetadata(TENANT_KEY, paramOrFn);
/** Validate this route's tokens remotely (or locally) whatever the client's default mode. */
export const ValidateWith = (mode: ValidationMode) => SetMetadata(MODE_KEY, mode);

export const PRINCIPAL_PROPERTY = 'principal';

/** The validated claims of the caller, set by AuthGuard. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AccessTokenClaims =>
    ctx.switchToHttp().getRequest<Record<string, AccessTokenClaims>>()[PRINCIPAL_PROPERTY],
);
