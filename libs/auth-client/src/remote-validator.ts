import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { EVENTS, PrincipalDisabledEvent, SUBJECTS, TokenRevokedEvent, ValidateTokenReply } from '@portcullis/contracts';
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
 * Asks auth-core (`auth.v1.token.validate`) and keeps positive answers briefly: never longer
 * than the token's `exp`, dropped the moment a revocation or disabled-principal event arrives.
 * No responder or a timeout fails closed with UNAVAILABLE, never "valid".
 */
export class RemoteValidator {
  private readonly cache = new Map<string, Entry>();
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: { cacheSize: number; cacheTtlMs: number; timeoutMs: number },
  ) {
    this.subs.push(
      nc.subscribe(EVENTS.TOKEN_REVOKED, {
        callback: (_e, m) => {
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
  }

  async validate(token: string, req: Requirements = {}): Promise<ValidateTokenReply> {
    const key = `${token}\u0000${JSON.stringify([req.roles ?? [], req.permissions ?? [], req.tenant ?? null])}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.reply;
    if (hit) this.cache.delete(key);

    let reply: ValidateTokenReply;
    try {
      const msg = await this.nc.request(SUBJECTS.TOKEN_VALIDATE, JSON.stringify({ token, ...req }), {
        timeout: this.opts.timeoutMs,
      });
      reply = msg.json<ValidateTokenReply>();
    } catch (err) {
      return unavailable(`auth-core did not answer: ${(err as Error).message}`);
    }
    if (reply.valid && this.opts.cacheSize > 0) {
      const until = Math.min(now + this.opts.cacheTtlMs, reply.claims.exp * 1000);
      if (this.cache.size >= this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { reply, until });
    }
    return reply;
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
    this.cache.clear();
  }
}
