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

/**
 * A request id chosen by a caller (the gateway's HTTP client, any NATS client) goes into every log
 * line written for that request: only a short plain token is kept, so nobody can make each line
 * carry a megabyte, or text dressed up as other fields. Anything else counts as no id.
 */
const REQUEST_ID = /^[\w.-]{1,128}$/;

export function acceptableRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : undefined;
}

/** The acceptable X-Request-Id of a NATS message, if it carries one. */
export function requestIdOf(msg: { headers?: { get(key: string): string } } | undefined): string | undefined {
  return acceptableRequestId(msg?.headers?.get(REQUEST_ID_HEADER));
}
