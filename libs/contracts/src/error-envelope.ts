import { ErrorCode, ErrorDetail } from './error-codes';

/**
 * The one table from error code to HTTP status, and the SPEC §4 envelope built from it: used by
 * the gateway's exception filter and by the SDK's guard, so both answer alike.
 */
export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNHANDLED_REQUEST_ERROR: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_GRANT: 401,
  UNKNOWN_CLIENT: 400,
  FORBIDDEN: 403,
  REFUSED: 403,
  UNSUPPORTED_TOKEN_TYPE: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * Credential failures all look like UNAUTHENTICATED to a native-API client, and a client named that
 * is unknown or disabled is bad input there like any other (its field named). A refusal that is not
 * about the token's scope reads FORBIDDEN like one that is; only the WWW-Authenticate challenge differs.
 */
const PUBLIC_STATUS_OF: Partial<Record<ErrorCode, string>> = {
  INVALID_CREDENTIALS: 'UNAUTHENTICATED',
  INVALID_GRANT: 'UNAUTHENTICATED',
  UNKNOWN_CLIENT: 'BAD_REQUEST',
  UNSUPPORTED_TOKEN_TYPE: 'BAD_REQUEST',
  REFUSED: 'FORBIDDEN',
};

export function codeForHttpStatus(status: number): ErrorCode {
  const found = (Object.entries(HTTP_STATUS_OF) as Array<[ErrorCode, number]>).find(([, s]) => s === status);
  if (found) return found[0];
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}

export interface ErrorEnvelope {
  statusCode: number;
  status: string;
  message: string;
  error: { errorKey: string; message: string; data: { fields: ErrorDetail[] } | null };
}

export function envelope(code: ErrorCode, message: string, details: ErrorDetail[] | null = null): ErrorEnvelope {
  const status = PUBLIC_STATUS_OF[code] ?? code;
  return {
    statusCode: HTTP_STATUS_OF[code],
    status,
    message,
    error: { errorKey: status, message, data: details && details.length ? { fields: details } : null },
  };
}
