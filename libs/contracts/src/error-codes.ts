/**
 * Errors cross NATS as a code string plus message, never as classes: `instanceof` does not
 * survive serialisation. The gateway maps each code to an HTTP status in one place.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  /** A credential that is not even well-formed (SPEC §4's API-key exchange wording). */
  'UNHANDLED_REQUEST_ERROR',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'INVALID_GRANT',
  /**
   * A login naming a client (as the one it is made for, without a secret) that does not exist or is
   * disabled. Bad input to the native API (400 naming `clientId`); to an OAuth client, an unknown
   * client: the password grant answers it invalid_client (RFC 6749 §5.2).
   */
  'UNKNOWN_CLIENT',
  /** The caller's token lacks a permission, role, tenant or token type the request needs (RFC 6750 insufficient_scope). */
  'FORBIDDEN',
  /**
   * Refused for what the request asks, not for what the token may do (a wrong current password, a
   * disabled target client, a role, permission or tenant the target client or user lacks): 403
   * FORBIDDEN too, but no insufficient_scope challenge, since a token with more scope would be
   * refused alike.
   */
  'REFUSED',
  /**
   * RFC 7009 §2.2.1: a token the revocation endpoint does not revoke (a PAT, or a client's own API
   * key: each is deleted, not revoked): answered 200, it would read as revoked.
   */
  'UNSUPPORTED_TOKEN_TYPE',
  'NOT_FOUND',
  /** A path that exists, asked with a method it does not answer (the gateway's router; never from auth-core). */
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'TOO_MANY_REQUESTS',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  field: string;
  errors: string[];
}

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[] | null;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A domain error raised in auth-core; serialised as {code, message, details}. */
export class PortcullisError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] | null = null,
  ) {
    super(message);
    this.name = 'PortcullisError';
  }

  toWire(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * The message of the UNAUTHENTICATED a client's failed authentication gets. A request can fail as
 * UNAUTHENTICATED for its subject (an unknown API key) or for its client; the gateway answers the
 * second invalid_client, so both sides name it with this one constant.
 */
export const CLIENT_AUTH_FAILED = 'Client authentication failed';

export const clientAuthFailed = (): PortcullisError => new PortcullisError('UNAUTHENTICATED', CLIENT_AUTH_FAILED);
