import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenClaims, TokenReply, TokenType } from '@portcullis/contracts';
import { signCompact } from '@portcullis/jwt';
import { EntityManager } from 'typeorm';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { KeyRingService } from '../keys/key-ring.service';
import { narrowToScope } from '../oauth/scope-narrowing';
import { MasterKey } from '../keys/master-key';
import { tokensIssued } from '../metrics/metrics';
import { AccessTokenEntity } from './access-token.entity';
import { AccessTokensRepository } from './access-tokens.repository';
import { RefreshTokenEntity } from './refresh-token.entity';
import { RefreshTokensRepository } from './refresh-tokens.repository';

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

/** The client a user's session is for, and that client's cap on its access tokens' lifetime. */
export interface SessionClient {
  cid: string;
  rcid: string;
  maxTokenLifetime?: number | null;
}

/**
 * The scope of a user's session (RFC 6749 §3.3, §6): what this access token is narrowed to, and the
 * scope the session was granted at sign-in, which every refresh token of the family carries on so
 * a later refresh may ask for any of it again (null: not narrowed, everything the user holds).
 */
export interface SessionScope {
  asked: readonly string[];
  family: readonly string[] | null;
}

const WHOLE_SESSION: SessionScope = { asked: [], family: null };

/** Mints tokens and records each one in the registry, inside the caller's transaction. */
@Injectable()
export class TokenIssuerService {
  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly masterKey: MasterKey,
    private readonly accessTokens: AccessTokensRepository,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  async issueAccess(spec: AccessTokenSpec, manager: EntityManager): Promise<IssuedAccessToken> {
    const { row, ...issued } = this.mint(spec);
    await this.accessTokens.insert(row, manager);
    return issued;
  }

  /**
   * A signed token and the registry row that must be stored before the token is handed out
   * (issueAccess stores it; client_credentials hands it to the group-commit writer).
   */
  mint(spec: AccessTokenSpec): IssuedAccessToken & { row: AccessTokenEntity } {
    const { sign, ...unsigned } = this.prepare(spec);
    return { ...unsigned, token: sign() };
  }

  /**
   * mint without the signature yet: the claims and the registry row, and `sign` to make the token
   * (with the key active now). The row does not hold the token, so a caller may store it first and
   * sign while the database commits it.
   */
  prepare(spec: AccessTokenSpec): Omit<IssuedAccessToken, 'token'> & { row: AccessTokenEntity; sign: () => string } {
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
      client_id: spec.cid,
      rcid: spec.rcid,
      typ: spec.typ,
      roles: spec.roles,
      tenants: spec.tenants,
      ...(spec.perms ? { perms: spec.perms } : {}),
      ...(spec.familyId ? { fam: spec.familyId } : {}),
    };
    const key = this.keys.activeKey();
    const sign = () =>
      signCompact({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, { ...claims }, key.privateKey, key.alg);
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
    return { tid, claims, row, sign };
  }

  /**
   * A user's session: an access token and a refresh token of one family (a new family at login,
   * the same family on refresh), as every kind of user sign-in replies with it.
   */
  async issueUserSession(
    user: { id: string; roles: string[]; tenants: string[] },
    client: SessionClient,
    manager: EntityManager,
    familyId: string = randomUUID(),
    sessionExpiresAt?: Date | null,
    scope: SessionScope = WHOLE_SESSION,
  ): Promise<{ access: IssuedAccessToken; reply: TokenReply & { refresh_token: string } }> {
    const { access, accessRow, refreshRow, reply } = this.prepareUserSession(
      user,
      client,
      familyId,
      sessionExpiresAt,
      scope,
    );
    await this.accessTokens.insert(accessRow, manager);
    await this.refreshTokens.insert(refreshRow, manager);
    return { access, reply };
  }

  /**
   * issueUserSession's tokens and the rows that must be stored before they are handed out. A scope
   * the user does not hold is FORBIDDEN (narrowToScope).
   */
  prepareUserSession(
    user: { id: string; roles: string[]; tenants: string[] },
    { maxTokenLifetime, ...client }: SessionClient,
    familyId: string = randomUUID(),
    sessionExpiresAt?: Date | null,
    scope: SessionScope = WHOLE_SESSION,
  ): {
    access: IssuedAccessToken;
    accessRow: AccessTokenEntity;
    refreshRow: RefreshTokenEntity;
    reply: TokenReply & { refresh_token: string };
  } {
    const granted = narrowToScope(user.roles, scope.asked, 'user');
    const ttlSeconds = Math.min(this.config.ACCESS_TOKEN_TTL, maxTokenLifetime ?? Infinity);
    const { row: accessRow, ...access } = this.mint({
      sub: user.id,
      ...client,
      typ: 'user',
      roles: granted.roles,
      tenants: user.tenants,
      perms: granted.perms,
      ttlSeconds,
      familyId,
      userId: user.id,
    });
    const refresh = this.prepareRefresh(
      { familyId, userId: user.id, ...client, scope: scope.family ? [...scope.family] : null },
      sessionExpiresAt,
    );
    return {
      access,
      accessRow,
      refreshRow: refresh.row,
      reply: {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: ttlSeconds,
        refresh_token: refresh.token,
        roles: granted.roles,
        ...(scope.asked.length ? { scope: scope.asked.join(' ') } : {}),
        tid: access.tid,
      },
    };
  }

  /**
   * Opaque, 256 bits of randomness; only its keyed hash is stored. A new session (no
   * `sessionExpiresAt` given) gets its absolute end here; a refresh carries its session's on, and
   * a session from before SESSION_MAX_TTL existed (null) keeps having none.
   */
  private prepareRefresh(
    spec: { familyId: string; userId: string; cid: string; rcid: string; scope: string[] | null },
    sessionExpiresAt?: Date | null,
  ): {
    token: string;
    row: RefreshTokenEntity;
  } {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = Date.now();
    const max = this.config.SESSION_MAX_TTL;
    const sessionEnd = sessionExpiresAt !== undefined ? sessionExpiresAt : max ? new Date(now + max * 1000) : null;
    const idleEnd = now + this.config.REFRESH_TOKEN_TTL * 1000;
    const row: RefreshTokenEntity = {
      id: randomUUID(),
      tokenHash: this.masterKey.hashSecret(token),
      familyId: spec.familyId,
      userId: spec.userId,
      cid: spec.cid,
      rcid: spec.rcid,
      scope: spec.scope,
      createdAt: new Date(now),
      expiresAt: new Date(Math.min(idleEnd, sessionEnd?.getTime() ?? Infinity)),
      sessionExpiresAt: sessionEnd,
      usedAt: null,
      revoked: false,
    };
    return { token, row };
  }
}
