export interface JwksReply {
  keys: Array<Record<string, unknown>>;
}

export interface MetaReply {
  issuer: string;
  audience: string;
  signingAlgorithms: string[];
  /** Seconds of clock skew auth-core tolerates on exp/nbf/iat: local validators apply the same. */
  clockSkew: number;
  /**
   * The scope values /oauth/token narrows by (RFC 8414 `scopes_supported`): every permission and
   * every role of the role map. Optional: a replica from before it sends none.
   */
  scopes?: string[];
}

export interface StatusReply {
  name: string;
  version: string;
  auth_provider_initialized: boolean;
  auth_db_initialized: boolean;
  database: 'up' | 'down';
  replica: string;
}
