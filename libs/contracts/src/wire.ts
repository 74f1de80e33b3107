import { isErrorCode, WireError } from './error-codes';

/**
 * The NATS wire format: requests and successful replies are the payload as plain JSON, so a
 * Go or Python service can use `nats req` without knowing NestJS' packet format. A failed
 * request is answered with `{"error": {code, message, details}}` and this header set to the
 * code, so a reply that legitimately carries an `error` field (a negative validation) is
 * never mistaken for a failure.
 */
export const ERROR_HEADER = 'Portcullis-Error';
export const REQUEST_ID_HEADER = 'X-Request-Id';

export interface ErrorReply {
  error: WireError;
}

export function toWireError(body: unknown): WireError {
  const error = (body as ErrorReply | undefined)?.error;
  if (error && isErrorCode(error.code)) {
    return { code: error.code, message: String(error.message ?? ''), details: error.details ?? null };
  }
  return { code: 'INTERNAL', message: 'Malformed error reply', details: null };
}
