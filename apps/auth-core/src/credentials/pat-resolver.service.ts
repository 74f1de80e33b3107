import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AccessTokenClaims, isWellFormedCredential, PAT_PREFIX, permissionsOf } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { narrowTenants } from './narrow-tenants';

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
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly masterKey: MasterKey,
    private readonly audit: AuditService,
  ) {}

  async resolve(token: string, clientIp?: string): Promise<PatResolution> {
    if (!isWellFormedCredential(token, PAT_PREFIX))
      return { ok: false, code: 'UNAUTHENTICATED', message: 'Token is malformed' };
    const hash = this.masterKey.hashSecret(token);
    const key = hash.toString('base64');
    const now = Date.now();
    const cached = this.cache.get(key);
    let claims = cached && cached.until > now ? cached.claims : undefined;
    if (!claims) {
      let rows: Array<{
        id: string;
        user_id: string;
        permissions: string[];
        tenants: string[];
        expires_at: Date;
        created_at: Date;
        roles: string[];
        owner_tenants: string[];
      }>;
      try {
        rows = await this.ds.query(
          `SELECT p.id, p.user_id, p.permissions, p.tenants, p.expires_at, p.created_at, u.roles,
                  u.tenants AS owner_tenants
             FROM personal_access_tokens p JOIN users u ON u.id = p.user_id
            WHERE p.token_hash = $1 AND p.deleted_at IS NULL`,
          [hash],
        );
      } catch {
        return { ok: false, code: 'UNAVAILABLE', message: 'Personal access tokens cannot be checked right now' };
      }
      const row = rows[0];
      if (!row) return { ok: false, code: 'UNAUTHENTICATED', message: 'Token is unknown or has been deleted' };
      const held = permissionsOf(row.roles);
      claims = {
        iss: this.config.ISSUER,
        sub: row.user_id,
        aud: this.config.AUDIENCE,
        iat: Math.floor(row.created_at.getTime() / 1000),
        exp: Math.floor(row.expires_at.getTime() / 1000),
        jti: row.id,
        cid: this.config.DEFAULT_CLIENT_ID,
        rcid: this.config.DEFAULT_CLIENT_ID,
        typ: 'pat',
        roles: row.roles,
        // The owner may have lost a permission or a tenant since the PAT was made: never more than
        // they hold now.
        tenants: narrowTenants(row.tenants, row.owner_tenants),
        perms: row.permissions.filter((p) => held.includes(p)),
      };
      this.cache.set(key, { claims, until: now + CACHE_MS });
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    }
    if (claims.exp <= Math.floor(now / 1000))
      return { ok: false, code: 'UNAUTHENTICATED', message: 'Token has expired' };
    this.pendingUse.set(claims.jti, now);
    if (clientIp) this.noteAddress(claims, clientIp);
    return { ok: true, claims };
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
    // The SELECT sees the table as it was before this INSERT: `previous` is the last address before this one.
    const [row] = (await this.ds.query(
      `WITH added AS (INSERT INTO pat_addresses (pat_id, ip) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ip)
       SELECT EXISTS (SELECT 1 FROM added) AS added,
              (SELECT ip FROM pat_addresses WHERE pat_id = $1 ORDER BY first_seen_at DESC LIMIT 1) AS previous`,
      [claims.jti, ip],
    )) as Array<{ added: boolean; previous: string | null }>;
    if (!row.added) return;
    await this.audit.record({
      type: 'pat.used_from_new_ip',
      actor: claims.sub,
      subject: claims.sub,
      success: true,
      data: { id: claims.jti, ip, previousIp: row.previous },
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
    await this.ds
      .query(
        `UPDATE personal_access_tokens p SET last_used_at = to_timestamp(u.ts / 1000.0)
           FROM unnest($1::uuid[], $2::bigint[]) AS u(id, ts) WHERE p.id = u.id`,
        [due.map(([id]) => id), due.map(([, ts]) => ts)],
      )
      .catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.flusher);
    this.lastWritten.clear();
    await this.flush();
  }
}
