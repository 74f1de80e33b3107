import { PrincipalDisabledEvent, RevocationSnapshot, TokenRevokedEvent } from '@portcullis/contracts';
import { PrincipalKind } from './claims-policy';

/** Past a token's expiry plus this margin (beyond any clock skew) its revocation can never matter. */
const FORGET_AFTER_EXPIRY_SECONDS = 600;

/**
 * Everything a RevocationState holds, as plain data: a copy built from it (another thread's) judges
 * exactly as the original and, fed the same events after, stays the same — unlike a snapshot, it
 * keeps each principal event's time, so a late older event is refused by the copy too.
 */
export interface RevocationStateCopy {
  revoked: Array<[string, number]>;
  disabled: string[];
  principalEvents: Array<[string, { at: number; disabled: boolean }]>;
}

/**
 * What validation needs beyond the signature, held in memory: revoked token ids (until their
 * tokens expire anyway) and disabled principals. One implementation for auth-core and for local
 * validators (SDK, gateway): both load a snapshot and then apply events, which reach them more
 * than once and not always in order (applied directly or live, and again from the JetStream
 * feed). Revocations only ever add, so repeats are harmless; principal events carry their time,
 * and an older one never undoes a newer one.
 */
export class RevocationState {
  private readonly revoked = new Map<string, number>();
  private disabled = new Set<string>();
  private readonly principalEvents = new Map<string, { at: number; disabled: boolean }>();

  applyRevoked(event: Pick<TokenRevokedEvent, 'tokens'>): void {
    for (const t of event.tokens ?? []) if (typeof t?.tid === 'string') this.revoked.set(t.tid, Number(t.exp) || 0);
  }

  applyDisabled(event: PrincipalDisabledEvent): void {
    const key = keyOf(event.kind, event.id);
    const at = Date.parse(event.at);
    if (at < (this.principalEvents.get(key)?.at ?? -Infinity)) return;
    this.principalEvents.set(key, { at, disabled: event.disabled });
    if (event.disabled) this.disabled.add(key);
    else this.disabled.delete(key);
  }

  /**
   * The disabled principals as read at `at` (epoch ms) replace the current set; an event applied
   * while that read was on its way is newer than it and stands. `marginMs` keeps events a little
   * older than the read too: a snapshot from another process (a local validator's, from whichever
   * auth-core replica answers) may lag behind an event this state has already applied, and after a
   * reconnect that event is not delivered again. Re-applying the newest event per principal within
   * the margin can only be as current as the snapshot or more.
   */
  loadDisabled(principals: Array<{ kind: PrincipalKind; id: string }>, at: number, marginMs = 0): void {
    this.disabled = new Set(principals.map((p) => keyOf(p.kind, p.id)));
    for (const [key, e] of this.principalEvents)
      if (e.at > at - marginMs) {
        if (e.disabled) this.disabled.add(key);
        else this.disabled.delete(key);
      }
  }

  isRevoked(tid: string): boolean {
    return this.revoked.has(tid);
  }

  isDisabled(kind: PrincipalKind, id: string): boolean {
    return this.disabled.has(keyOf(kind, id));
  }

  sweep(nowSeconds = Math.floor(Date.now() / 1000)): void {
    for (const [tid, exp] of this.revoked) if (exp + FORGET_AFTER_EXPIRY_SECONDS < nowSeconds) this.revoked.delete(tid);
  }

  copy(): RevocationStateCopy {
    return { revoked: [...this.revoked], disabled: [...this.disabled], principalEvents: [...this.principalEvents] };
  }

  /** Becomes exactly the state `copy()` returned, whatever it held before. */
  load(copy: RevocationStateCopy): void {
    this.revoked.clear();
    for (const [tid, exp] of copy.revoked) this.revoked.set(tid, exp);
    this.disabled = new Set(copy.disabled);
    this.principalEvents.clear();
    for (const [key, e] of copy.principalEvents) this.principalEvents.set(key, e);
  }

  snapshot(): RevocationSnapshot {
    return {
      revoked: [...this.revoked].map(([tid, exp]) => ({ tid, exp })),
      disabled: [...this.disabled].map((key) => {
        const [kind, ...rest] = key.split(':');
        return { kind: kind as PrincipalKind, id: rest.join(':') };
      }),
      at: new Date().toISOString(),
    };
  }
}

const keyOf = (kind: PrincipalKind, id: string) => `${kind}:${id}`;
