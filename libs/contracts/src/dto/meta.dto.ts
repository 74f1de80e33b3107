export interface JwksReply {
  keys: Array<Record<string, unknown>>;
}

export interface MetaReply {
  issuer: string;
  audience: string;
  signingAlgorithms: string[];
  /** Seconds of clock skew auth-core tolerates on exp/nbf/iat: local validators apply the same. */
  clockSkew: number;
}

export interface StatusReply {
  name: string;
  version: string;
  auth_provider_initialized: boolean;
  auth_db_initialized: boolean;
  database: 'up' | 'down';
  replica: string;
}
