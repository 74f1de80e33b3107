/** Event payloads (published on JetStream; see EVENTS in subjects.ts). */
export interface TokenRevokedEvent {
  /** Revoked access-token ids with their expiry (epoch seconds), so caches can forget them. */
  tokens: Array<{ tid: string; exp: number }>;
  reason: string;
  at: string;
}

export interface PrincipalDisabledEvent {
  kind: 'user' | 'client';
  id: string;
  disabled: boolean;
  at: string;
}

/**
 * The keys that verify have changed: read them again (the JWKS) until `kid` is among them. `kid` is
 * the new active key of a rotation, or a retired key that verifies again: a replica that heard of the
 * rotation late signed with it meanwhile, and other replicas and SDKs may have dropped it already.
 */
export interface KeysRotatedEvent {
  kid: string;
  at: string;
}

export interface AuditEvent {
  id: string;
  type: string;
  actor: string | null;
  subject: string | null;
  success: boolean;
  data: Record<string, unknown>;
  at: string;
}

export interface HeartbeatEvent {
  replica: string;
  at: string;
}

/** What an SDK in local mode loads before following the event stream. */
export interface RevocationSnapshot {
  revoked: Array<{ tid: string; exp: number }>;
  disabled: Array<{ kind: 'user' | 'client'; id: string }>;
  at: string;
  /**
   * When the events stream this state is current with was made (JetStream's `created`): set once
   * the answering replica has followed that stream since its load, or reloaded from PostgreSQL after
   * moving to it. A local validator whose feed moved to a newer stream asks again until it is.
   */
  stream?: string;
}

export interface SigningKeyView {
  kid: string;
  alg: string;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
  verifyUntil: string | null;
}
