import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';

export type ValidationMode = 'remote' | 'local';

export interface AuthClientOptions {
  /** Either a URL (the client opens and owns a connection) or a connection the caller owns. */
  natsUrl?: string;
  natsConnection?: NatsConnection;
  /** Identity and TLS for the connection the client opens (user/pass, token, creds, tls). */
  natsOptions?: NodeConnectionOptions;
  /** `remote` asks auth-core for every token; `local` verifies JWTs in-process. */
  mode: ValidationMode;
  /** Defaults to what auth-core announces (`auth.v1.meta`). */
  issuer?: string;
  audience?: string;
  /** Positive results kept by remote mode (entries); never past a token's `exp`. */
  cacheSize?: number;
  /** How long a positive remote result may be reused, ms (default 5000). */
  cacheTtlMs?: number;
  /** Bound on each request to auth-core, ms (default 2000). */
  timeoutMs?: number;
  /** Local mode refuses every token once auth-core has been silent this long, ms (default 30000). */
  stalenessBoundMs?: number;
  /** Clock skew tolerated on exp/nbf/iat in local mode, seconds (default: what auth-core announces). */
  clockSkew?: number;
}

export const DEFAULTS = {
  cacheSize: 10_000,
  cacheTtlMs: 5_000,
  timeoutMs: 2_000,
  stalenessBoundMs: 30_000,
} as const;
