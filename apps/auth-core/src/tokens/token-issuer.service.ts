import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenClaims, TokenReply, TokenType } from '@portcullis/contracts';
import { signCompact } from '@portcullis/jwt';
import { EntityManager } from 'typeorm';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { KeyRingService } from '../keys/key-ring.service';
import { MasterKey } from '../keys/master-key';
import { tokensIssued } from '../metrics/metrics';
import { AccessTokenEntity } from './access-token.entity';
import { RefreshTokenEntity } from './refresh-token.entity';

export interface AccessTokenSpec {
  sub: string;
  cid: string;
  rcid: string;
  typ: TokenType;
  roles: string[];
  tenants: string[];
  perms?: string[];
  ttlSeconds: number;
  familyId?: string | null;
  userId?: string | null;
}

export interface IssuedAccessToken {
  token: string;
  tid: string;
  claims: AccessTokenClaims;
}

export const REFRESH_TOKEN_PREFIX = 'pcl_rt_';

/** Mints tokens and records each one in the registry, inside the caller's transaction. */
@Injectable()
export class TokenIssuerService {
  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly masterKey: MasterKey,
  ) {}

  async issueAccess(spec: AccessTokenSpec, manager: EntityManager): Promise<IssuedAccessToken> {
    const { row, ...issued } = this.mint(spec);
    await manager.insert(AccessTokenEntity, row);
    return issued;
  }

  /**
   * A signed token and the registry row that must be stored before the token is handed out
   * (issueAccess stores it; client_credentials hands it to the group-commit writer).
   */
  mint(spec: AccessTokenSpec): IssuedAccessToken & { row: AccessTokenEntity } {
    const tid = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.config.ISSUER,
      sub: spec.sub,
      aud: this.config.AUDIENCE,
      iat: now,
      exp: now + spec.ttlSeconds,
      jti: tid,
      cid: spec.cid,
      rcid: spec.rcid,
      typ: spec.typ,
      roles: spec.roles,
      tenants: spec.tenants,
      ...(spec.perms ? { perms: spec.perms } : {}),
      ...(spec.familyId ? { fam: spec.familyId } : {}),
    };
    const key = this.keys.activeKey();
    const token = signCompact({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, { ...claims }, key.privateKey, key.alg);
    const row: AccessTokenEntity = {
      tid,
      sub: spec.sub,
      cid: spec.cid,
      rcid: spec.rcid,
      typ: spec.typ,
      roles: spec.roles,
      tenants: spec.tenants,
      familyId: spec.familyId ?? null,
      userId: spec.userId ?? null,
      createdAt: new Date(now * 1000),
      expiresAt: new Date(claims.exp * 1000),
      revoked: false,
      revokedAt: null,
    };
    tokensIssued.inc({ typ: spec.typ });
    return { token, tid, claims, row };
  }

  /**
   * A user's session: an access token and a refresh token of one family (a new family at login,
   * the same family on refresh), as every kind of user sign-in replies with it.
   */
  async issueUserSession(
    user: { id: string; roles: string[]; tenants: string[] },
    client: { cid: string; rcid: string },
    manager: EntityManager,
    familyId: string = randomUUID(),
  ): Promise<{ access: IssuedAccessToken; reply: TokenReply & { refresh_token: string } }> {
    const ttlSeconds = this.config.ACCESS_TOKEN_TTL;
    const access = await this.issueAccess(
      {
        sub: user.id,
        ...client,
        typ: 'user',
        roles: user.roles,
        tenants: user.tenants,
        ttlSeconds,
        familyId,
        userId: user.id,
      },
      manager,
    );
    const refresh = await this.issueRefresh({ familyId, userId: user.id, ...client }, manager);
    return {
      access,
      reply: {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        refresh_token: refresh,
        roles: user.roles,
        tid: access.tid,
      },
    };
  }

  /** Opaque, 256 bits of randomness; only its keyed hash is stored. */
  async issueRefresh(
    spec: { familyId: string; userId: string; cid: string; rcid: string },
    manager: EntityManager,
  ): Promise<string> {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = Date.now();
    await manager.insert(RefreshTokenEntity, {
      tokenHash: this.masterKey.hashSecret(token),
      familyId: spec.familyId,
      userId: spec.userId,
      cid: spec.cid,
      rcid: spec.rcid,
      createdAt: new Date(now),
      expiresAt: new Date(now + this.config.REFRESH_TOKEN_TTL * 1000),
      usedAt: null,
      revoked: false,
    });
    return token;
  }
}
