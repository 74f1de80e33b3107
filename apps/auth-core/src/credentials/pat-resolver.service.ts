import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AccessTokenClaims, isWellFormedCredential, PAT_PREFIX, permissionsOf } from '@portcullis/contracts';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { narrowTenants } from './narrow-tenants';
import { LivePat, PatsRepository } from './pats.repository';

interface CachedPat {
  claims: AccessTokenClaims;
  until: number;
}

/** Positive cache lifetime: deletion still applies at once (revocation events), role and tenant changes within this. */
const CACHE_MS = 30_000;
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const FLUSH_MS = 10_000;
const ADDRESS_RETRY_MS = 30_000;

export type PatResolution =
  { ok: true; claims: AccessTokenClaims } | { ok: false; code: 'UNAUTHENTICATED' | 'UNAVAILABLE'; message: string };

/**
 * Turns a PAT into the claims a JWT would carry (`typ: pat`, narrowed `perms` and `tenants`),
 * so validation treats both alike. `lastUsedAt` is batched: at most one write per token per
 * minute, never a write per request.
 */
@Injectable()
export class PatResolverService implements OnApplicationShutdown {
  private readonly cache = new Map<string, CachedPat>();
  private readonly pendingUse = new Map<string, number>();
  private readonly lastWritten = new Map<string, number>();
  private readonly knownAddresses = new Set<string>();
  private readonly flusher = setInterval(() => void this.flush(), FLUSH_MS).unref();

  constructor(
    private readonly pats: PatsRepository,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly masterKey: MasterKey,
    private readonly audit: AuditService,
  ) {}

  /** The PAT's claims; nothing is recorded until its use is judged (noteUse). */
  async resolve(token: string): Promise<PatResolution> {
    if (!isWellFormedCredential(token, PAT_PREFIX))
      return { ok: false, code: 'UNAUTHENTICATED', message: 'Token is malformed' };
    const hash = this.masterKey.hashSecret(token);
    const key = hash.toString('base64');
    const now = Date.now();
    const cached = this.cache.get(key);
    let claims = cached && cached.until > now ? cached.claims : undefined;
    if (!claims) {
      let pat: LivePat | null;
      try {
        pat = await this.pats.findLiveWithOwner(hash);
      } catch {
        return { ok: false, code: 'UNAVAILABLE', message: 'Personal access tokens cannot be checked right now' };
      }
      if (!pat) return { ok: false, code: 'UNAUTHENTICATED', message: 'Token is unknown or has been deleted' };
      const held = permissionsOf(pat.ownerRoles);
      claims = {
        iss: this.config.ISSUER,
        sub: pat.userId,
        aud: this.config.AUDIENCE,
        iat: Math.floor(pat.createdAt.getTime() / 1000),
        exp: Math.floor(pat.expiresAt.getTime() / 1000),
        jti: pat.id,
        cid: this.config.DEFAULT_CLIENT_ID,
        client_id: this.config.DEFAULT_CLIENT_ID,
        rcid: this.config.DEFAULT_CLIENT_ID,
        typ: 'pat',
        roles: pat.ownerRoles,
        // The owner may have lost a permission or a tenant since the PAT was made: never more than
        // they hold now.
        tenants: narrowTenants(pat.tenants, pat.ownerTenants),
        perms: pat.permissions.filter((p) => held.includes(p)),
      };
      this.cache.set(key, { claims, until: now + CACHE_MS });
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    }
    if (claims.exp <= Math.floor(now / 1000))
      return { ok: false, code: 'UNAUTHENTICATED', message: 'Token has expired' };
    return { ok: true, claims };
  }

  /** Records a use of a resolved PAT that was not refused: when, and from where. */
  noteUse(claims: AccessTokenClaims, clientIp?: string): void {
    this.pendingUse.set(claims.jti, Date.now());
    if (clientIp) this.noteAddress(claims, clientIp);
  }

  /**
   * Audits the first use of a PAT from an address it was never used from. PostgreSQL keeps the
   * addresses (pat_addresses), so one new address is one event for the whole deployment; this
   * replica remembers what it has written, so a known address costs no write.
   */
  private noteAddress(claims: AccessTokenClaims, ip: string): void {
    const key = `${claims.jti} ${ip}`;
    if (this.knownAddresses.has(key)) return;
    this.knownAddresses.add(key);
    if (this.knownAddresses.size > 10_000) this.knownAddresses.delete(this.knownAddresses.values().next().value!);
    // Not written (database down): tried again on a use after a while, not on every use meanwhile.
    void this.recordAddress(claims, ip).catch(() =>
      setTimeout(() => this.knownAddresses.delete(key), ADDRESS_RETRY_MS).unref(),
    );
  }

  private async recordAddress(claims: AccessTokenClaims, ip: string): Promise<void> {
    const { added, previous } = await this.pats.addAddress(claims.jti, ip);
    if (!added) return;
    await this.audit.record({
      type: 'pat.used_from_new_ip',
      actor: claims.sub,
      subject: claims.sub,
      success: true,
      data: { id: claims.jti, ip, previousIp: previous },
    });
  }

  async flush(): Promise<void> {
    const now = Date.now();
    const due = [...this.pendingUse].filter(
      ([id]) => now - (this.lastWritten.get(id) ?? 0) >= LAST_USED_WRITE_INTERVAL_MS,
    );
    if (!due.length) return;
    for (const [id] of due) {
      this.pendingUse.delete(id);
      this.lastWritten.set(id, now);
    }
    await this.pats.setLastUsed(due).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flusher);
    this.lastWritten.clear();
    await this.flush();
  }
}
