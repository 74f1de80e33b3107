/**
 * Every NATS subject of Portcullis. Nothing else in the repository writes a subject string.
 *
 * NATS_SUBJECT_PREFIX namespaces a whole deployment (or one test run) on a shared NATS server;
 * it is empty in production so the subjects are exactly the documented `auth.v1.*` names.
 */
const prefix = process.env.NATS_SUBJECT_PREFIX ?? '';

const s = <T extends string>(name: T): T => `${prefix}${name}` as T;

export const SUBJECTS = {
  TOKEN_VALIDATE: s('auth.v1.token.validate'),
  LOGIN: s('auth.v1.login'),
  TOKEN_REFRESH: s('auth.v1.token.refresh'),
  LOGOUT: s('auth.v1.logout'),
  AUTH_ME: s('auth.v1.auth.me'),
  KEYS_JWKS: s('auth.v1.keys.jwks'),
  META: s('auth.v1.meta'),
  STATUS: s('auth.v1.status'),
  REVOCATIONS_SNAPSHOT: s('auth.v1.revocations.snapshot'),
  KEYS_LIST: s('auth.v1.keys.list'),
  KEYS_ROTATE: s('auth.v1.keys.rotate'),
  AUDIT_LIST: s('auth.v1.audit.list'),
  TOKENS_LIST: s('auth.v1.tokens.list'),
  TOKENS_LIST_ALL: s('auth.v1.tokens.list-all'),
  TOKENS_CREATE: s('auth.v1.tokens.create'),
  TOKENS_GET: s('auth.v1.tokens.get'),
  TOKENS_REVOKE: s('auth.v1.tokens.revoke'),
  TOKENS_REVOKE_OWN: s('auth.v1.tokens.revoke-own'),
  TOKENS_REVOKE_ALL: s('auth.v1.tokens.revoke-all'),
  TOKENS_CLEANUP: s('auth.v1.tokens.cleanup'),
  SYSTEM_TOKEN: s('auth.v1.tokens.system'),
  EXTENDED_TOKEN: s('auth.v1.tokens.extended'),
  CLIENTS_CREATE: s('auth.v1.clients.create'),
  CLIENTS_REGISTER: s('auth.v1.clients.register'),
  CLIENTS_LIST: s('auth.v1.clients.list'),
  CLIENTS_GET: s('auth.v1.clients.get'),
  CLIENTS_UPDATE: s('auth.v1.clients.update'),
  CLIENTS_DELETE: s('auth.v1.clients.delete'),
  CLIENTS_ME: s('auth.v1.clients.me'),
  CLIENTS_UPDATE_ME: s('auth.v1.clients.update-me'),
  CLIENTS_ROLES: s('auth.v1.clients.roles'),
  CLIENTS_SET_STATE: s('auth.v1.clients.set-state'),
  OAUTH_CLIENT_CREDENTIALS: s('auth.v1.oauth.client-credentials'),
  OAUTH_INTROSPECT: s('auth.v1.oauth.introspect'),
  OAUTH_REVOKE: s('auth.v1.oauth.revoke'),
  USERS_CREATE: s('auth.v1.users.create'),
  USERS_LIST: s('auth.v1.users.list'),
  USERS_GET: s('auth.v1.users.get'),
  USERS_UPDATE: s('auth.v1.users.update'),
  USERS_DELETE: s('auth.v1.users.delete'),
  USERS_CHANGE_PASSWORD: s('auth.v1.users.change-password'),
  USERS_REVOKE_TOKENS: s('auth.v1.users.revoke-tokens'),
  USERS_REMOVE_CREDENTIALS: s('auth.v1.users.remove-credentials'),
  PATS_CREATE: s('auth.v1.pats.create'),
  PATS_LIST: s('auth.v1.pats.list'),
  PATS_DELETE: s('auth.v1.pats.delete'),
  API_KEYS_CREATE: s('auth.v1.api-keys.create'),
  API_KEYS_LIST: s('auth.v1.api-keys.list'),
  API_KEYS_DELETE: s('auth.v1.api-keys.delete'),
  API_KEYS_EXCHANGE: s('auth.v1.api-keys.exchange'),
  OIDC_CONFIG: s('auth.v1.oidc.config'),
  OIDC_LOGIN: s('auth.v1.oidc.login'),
} as const;

export const EVENTS = {
  TOKEN_REVOKED: s('auth.v1.events.token.revoked'),
  PRINCIPAL_DISABLED: s('auth.v1.events.principal.disabled'),
  KEYS_ROTATED: s('auth.v1.events.keys.rotated'),
  AUDIT: s('auth.v1.events.audit'),
  /** Core NATS (not JetStream): each replica says it is alive every second; SDKs in local mode measure staleness by it. */
  HEARTBEAT: s('auth.v1.heartbeat'),
} as const;

/** Wildcard covering every event subject, used for the JetStream stream. */
export const EVENTS_WILDCARD = s('auth.v1.events.>');

/**
 * A JetStream stream or bucket name under a subject prefix: names allow no dots, so the prefix is
 * folded in (every character but letters, digits, `-` and `_` turned into `_`).
 */
export const jetStreamName = (base: string, subjectPrefix: string): string =>
  subjectPrefix ? `${base}_${subjectPrefix.replace(/[^A-Za-z0-9_-]/g, '_')}` : base;

/** JetStream stream of the events. */
export const EVENTS_STREAM = jetStreamName('PORTCULLIS_EVENTS', prefix);

/**
 * JetStream's own advisories about a stream (`CREATED`, `DELETED`, ... in place of `*`): how an
 * event feed hears at once that its stream was lost and made again, whatever made it.
 */
export const streamAdvisories = (stream: string) => `$JS.EVENT.ADVISORY.STREAM.*.${stream}`;

/** JetStream KV bucket of failed logins per address, shared by the gateway replicas. */
export const LOGIN_FAILURES_BUCKET = jetStreamName('PORTCULLIS_LOGIN_FAILURES', prefix);

/** Queue group shared by every auth-core replica, so N replicas split the request load. */
export const AUTH_CORE_QUEUE = 'auth-core';

export type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];
