import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/**
 * Errors an operation answers that the route table cannot tell (documentErrorResponses reads
 * only body, bearer and path parameters off it): a credential the operation checks itself, a
 * name that can be taken, the failed-login throttle. documentErrorResponses gives them the body
 * schema of the surface (SPEC §4 envelope, or RFC 6749 on /oauth/*).
 */
export const DocumentedErrors = (errors: Record<number, string>) =>
  applyDecorators(
    ...Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), description })),
  );

export const TAKEN = 'The name is taken';
export const THROTTLED = 'Too many failed logins from this address (Retry-After says how long)';
