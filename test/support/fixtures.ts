import { Algorithm, hash } from '@node-rs/argon2';
import type { AccessTokenClaims, ErrorDetail, ErrorEnvelope, TokenReply } from '@portcullis/contracts';
import { login, Stack } from './stack';

/**
 * Seeds principals straight into the stack's database for suites that run before (or
 * independently of) the users and clients APIs.
 */
export async function seedUser(
  stack: Stack,
  username: string,
  password: string,
  roles: string[] = ['user'],
  tenants: string[] = [],
) {
  const passwordHash = await hash(password, {
    algorithm: Algorithm.Argon2id,
    memoryCost: 19456,
    timeCost: 2,
    parallelism: 1,
  });
  const [row] = await stack.query<{ id: string }>(
    `INSERT INTO users (username, username_normalized, password_hash, roles, tenants) VALUES ($1::text, lower($1::text), $2, $3, $4) RETURNING id`,
    [username, passwordHash, roles, tenants],
  );
  return { id: row.id, username, password, login: () => login(stack, username, password) };
}

export async function seedClient(
  stack: Stack,
  clientId: string,
  roles: string[],
  opts: { enabled?: boolean; maxTokenLifetime?: number; tenants?: string[] } = {},
) {
  await stack.query(
    `INSERT INTO clients (client_id, roles, tenants, enabled, max_token_lifetime) VALUES ($1, $2, $3, $4, $5)`,
    [clientId, roles, opts.tenants ?? [], opts.enabled ?? true, opts.maxTokenLifetime ?? null],
  );
}

/** One native API call: status, parsed body and the reply's headers. */
export async function request(stack: Stack, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export function api(stack: Stack, token?: string) {
  const call = (method: string, path: string, body?: unknown) => request(stack, method, path, body, token);
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown = {}) => call('POST', path, body),
    del: (path: string) => call('DELETE', path),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
  };
}

/** A 400 in the SPEC §4 envelope naming exactly `fields` (`label` says which case failed). */
export function expectRefused(label: string, r: { status: number; body: ReplyBody | null }, fields: string[]) {
  expect({
    label,
    status: r.status,
    envelope: r.body?.status,
    fields: (r.body?.error?.data?.fields ?? []).map((f) => f.field).sort(),
  }).toEqual({ label, status: 400, envelope: 'BAD_REQUEST', fields: [...fields].sort() });
}

/** What a 403 says: its status, envelope code and challenge (RFC 6750 §3.1; null when none is sent). */
export const refusal = (r: { status: number; body: ReplyBody | null; headers: Headers }) => ({
  status: r.status,
  code: r.body?.status,
  challenge: r.headers.get('www-authenticate'),
});
/** A refusal for what the request asks, which a token with more scope would get alike: no challenge. */
export const REFUSED = { status: 403, code: 'FORBIDDEN', challenge: null };
/** A refusal for what the caller's token lacks. */
export const INSUFFICIENT_SCOPE = { status: 403, code: 'FORBIDDEN', challenge: 'Bearer error="insufficient_scope"' };

/** Loose shape of every reply these tests read: the error envelope, a validate reply, a token reply. */
export interface ReplyBody {
  statusCode?: number;
  status?: string;
  message?: string;
  valid?: boolean;
  claims?: Record<string, unknown>;
  access_token?: string;
  /** An OAuth error reply's description (RFC 6749 §5.2). */
  error_description?: string;
  error?: {
    errorKey?: string;
    code?: string;
    message?: string;
    data?: { fields: Array<{ field: string; errors: string[] }> } | null;
    details?: Array<{ field: string; errors: string[] }> | null;
  };
}

/** A fetch reply's JSON body as the shape the test reads (fetch types it `unknown`). */
export async function readJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** What /oauth/token answers (RFC 6749 §5.1): client_credentials may add `scope`, token exchange `issued_token_type`. */
export type OAuthTokenReply = TokenReply & { scope?: string; issued_token_type?: string };

/** A session's tokens (login, refresh, the password and refresh_token grants): a refresh token is always among them. */
export type SessionReply = OAuthTokenReply & { refresh_token: string };

/** An OAuth error reply (RFC 6749 §5.2). */
export interface OAuthErrorReply {
  error: string;
  error_description?: string;
}

/** The error envelope of a request refused for its fields: `data` names them. */
export type FieldErrorEnvelope = ErrorEnvelope & { error: { data: { fields: ErrorDetail[] } } };

/** The parts of the discovery documents (RFC 8414, OpenID Connect) these tests read. */
export interface DiscoveryReply {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  response_types_supported: string[];
}

/** An ISO time `d` days from now (PAT and API key expiries). */
export const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

/** An access token by client_credentials at /oauth/token (client_secret_basic). */
export async function clientCredentialsToken(stack: Stack, clientId: string, secret: string): Promise<string> {
  const res = await fetch(`${stack.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** What a JWT says, unverified: its header and its claims (tests read what they were given). */
export const jwtHeader = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { alg: string; kid: string; typ?: string };
export const jwtClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as AccessTokenClaims;

/** A signing key as GET /api/v1/keys lists it. */
export interface KeyView {
  kid: string;
  status: string;
  verifyUntil: string | null;
}
