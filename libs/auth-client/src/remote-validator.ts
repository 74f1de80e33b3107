import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  ERROR_HEADER,
  EVENTS,
  isErrorCode,
  PrincipalDisabledEvent,
  SUBJECTS,
  TokenRevokedEvent,
  ValidateTokenReply,
  WireError,
} from '@portcullis/contracts';
import type { Requirements } from '@portcullis/jwt';

interface Entry {
  reply: ValidateTokenReply & { valid: true };
  until: number;
}

export const unavailable = (message: string): ValidateTokenReply => ({
  valid: false,
  error: { code: 'UNAVAILABLE', message, details: null },
});

/**
 * auth-core's reply as `{valid: true, claims}` or `{valid: false, error}`, whatever came back: an
 * error reply (Portcullis-Error header, `{error}`: an INTERNAL when judging failed) keeps its code,
 * and anything else is UNAVAILABLE. Returned as it came, an error reply lacked `valid`, and a
 * `valid: true` without claims made validate() reject (a 500 from the guard) instead of answering.
 */
function validateReplyOf(msg: Msg): ValidateTokenReply {
  const body = msg.json<Record<string, unknown> | null>();
  const failed = msg.headers?.get(ERROR_HEADER);
  const error = body?.error as WireError | undefined;
  if (failed || body?.valid === false)
    return error && typeof error === 'object' && isErrorCode(error.code)
      ? { valid: false, error }
      : unavailable('auth-core answered with an error of no known code');
  if (body?.valid === true && body.claims && typeof body.claims === 'object') return body as ValidateTokenReply;
  return unavailable('auth-core answered something that is not a validation reply');
}

/**
 * Asks auth-core (`auth.v1.token.validate`) and keeps positive answers briefly: never longer
 * than the token's `exp`, dropped the moment a revocation or disabled-principal event arrives.
 * No responder or a timeout fails closed with UNAVAILABLE, never "valid".
 */
export class RemoteValidator {
  private readonly cache = new Map<string, Entry>();
  private readonly subs: Subscription[] = [];
  /**
   * Bumped by every revocation or disable event and every lost connection: an answer asked for
   * before one of those may be stale when it arrives, so it is returned but not kept.
   */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: { cacheSize: number; cacheTtlMs: number; timeoutMs: number },
  ) {
    this.subs.push(
      nc.subscribe(EVENTS.TOKEN_REVOKED, {
        callback: (_e, m) => {
          this.generation++;
          try {
            const ids = new Set(m.json<TokenRevokedEvent>().tokens.map((t) => t.tid));
            for (const [k, v] of this.cache) if (ids.has(v.reply.claims.jti)) this.cache.delete(k);
          } catch {
            this.cache.clear();
          }
        },
      }),
      nc.subscribe(EVENTS.PRINCIPAL_DISABLED, {
        callback: (_e, m) => {
          this.generation++;
          try {
            const { id } = m.json<PrincipalDisabledEvent>();
            for (const [k, v] of this.cache)
              if (v.reply.claims.sub === id || v.reply.claims.cid === id) this.cache.delete(k);
          } catch {
            this.cache.clear();
          }
        },
      }),
    );
    void this.watchConnection();
  }

  /** Events sent while the link was down are lost to this plain subscription: forget everything. */
  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) return;
      if (s.type === 'disconnect' || s.type === 'reconnect') {
        this.generation++;
        this.cache.clear();
      }
    }
  }

  async validate(token: string, req: Requirements = {}): Promise<ValidateTokenReply> {
    // The key is the request exactly as sent: one keyed on roles/permissions/tenant alone answered
    // a malformed request ({tenant: null}, an unknown field) valid from the cache, where auth-core
    // (and local mode) say BAD_REQUEST.
    let key: string;
    try {
      key = JSON.stringify({ token, ...req });
    } catch (err) {
      // A plain-JavaScript caller's requirements that are no JSON (a BigInt, a cycle) cannot be asked.
      return unavailable(`the request cannot be sent: ${(err as Error).message}`);
    }
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.reply;
    if (hit) this.cache.delete(key);

    const generation = this.generation;
    let reply: ValidateTokenReply;
    try {
      const msg = await this.nc.request(SUBJECTS.TOKEN_VALIDATE, key, { timeout: this.opts.timeoutMs });
      reply = validateReplyOf(msg);
    } catch (err) {
      return unavailable(`auth-core did not answer: ${(err as Error).message}`);
    }
    if (reply.valid && this.opts.cacheSize > 0 && generation === this.generation) {
      const until = Math.min(now + this.opts.cacheTtlMs, reply.claims.exp * 1000);
      if (this.cache.size >= this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { reply, until });
    }
    return reply;
  }

  close(): void {
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    this.cache.clear();
  }
}
