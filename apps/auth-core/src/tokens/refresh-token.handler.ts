import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  clientAuthFailed,
  PortcullisError,
  RefreshGrantRequest,
  SUBJECTS,
  TokenReply,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { ClientsRepository } from '../clients/clients.repository';
import { ClientAuthenticatorService } from '../oauth/client-authenticator.service';
import { holdsScope, scopeTokens } from '../oauth/scope-narrowing';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { UsersRepository } from '../users/users.repository';
import { updateReturning } from '../database/update-returning';
import { RefreshTokenEntity } from './refresh-token.entity';
import { RevocationService } from './revocation.service';
import { TokenIssuerService } from './token-issuer.service';

const INVALID_GRANT = (message = 'Refresh token is invalid') => new PortcullisError('INVALID_GRANT', message);

class RefreshReuseDetected extends Error {
  constructor(
    readonly familyId: string,
    readonly userId: string,
  ) {
    super('refresh token reuse');
  }
}

/**
 * Rotation on every use. The refresh token is claimed with one conditional UPDATE, so of N
 * concurrent presentations exactly one wins; presenting a rotated token again revokes the whole
 * family and its access tokens (RFC 9700 reuse detection).
 */
@Controller()
export class RefreshTokenHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly masterKey: MasterKey,
    private readonly users: UsersRepository,
    private readonly issuer: TokenIssuerService,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly clientAuth: ClientAuthenticatorService,
    private readonly clients: ClientsRepository,
  ) {}

  @MessagePattern(SUBJECTS.TOKEN_REFRESH)
  async handle(@Payload() payload: unknown): Promise<TokenReply> {
    const req = validatePayload(RefreshGrantRequest, payload);
    // RFC 6749 §6: a client that authenticates must do so correctly; a client that names itself
    // (authenticated, or a public client's bare client_id) may only refresh tokens issued to it.
    const client =
      req.client_secret !== undefined
        ? await this.clientAuth.authenticate(req.client_id ?? '', req.client_secret)
        : undefined;
    const expectedCid = client?.clientId ?? req.client_id;
    const hash = this.masterKey.hashSecret(req.refresh_token);
    try {
      return await this.ds.transaction(async (m) => {
        const [row] = await updateReturning<
          Pick<RefreshTokenEntity, 'id' | 'familyId' | 'userId' | 'cid' | 'rcid' | 'scope' | 'sessionExpiresAt'>
        >(
          m,
          `UPDATE refresh_tokens SET used_at = now()
            WHERE token_hash = $1 AND used_at IS NULL AND NOT revoked AND expires_at > now()
            RETURNING id, family_id AS "familyId", user_id AS "userId", cid, rcid, scope,
              session_expires_at AS "sessionExpiresAt"`,
          [hash],
        );
        // Thrown inside the transaction: the token stays unused, for the client it was issued to.
        if (row && expectedCid !== undefined && row.cid !== expectedCid) throw INVALID_GRANT();
        // A session a client asked for with its secret is that client's: only it, authenticated,
        // may refresh it (RFC 6749 §6, RFC 9700 §4.14.2); a leaked refresh token alone is not enough.
        if (row && row.rcid !== this.config.DEFAULT_CLIENT_ID && client?.clientId !== row.rcid)
          throw clientAuthFailed();
        if (!row) {
          const known = await m.findOne(RefreshTokenEntity, { where: { tokenHash: hash } });
          // Presenting a rotated token again is reuse; a revoked one (logout, an earlier reuse, an
          // admin) is simply refused, under its own name: its family is already dead.
          if (known?.usedAt) throw new RefreshReuseDetected(known.familyId, known.userId);
          if (known?.revoked) throw INVALID_GRANT('Refresh token has been revoked');
          throw INVALID_GRANT(known ? 'Refresh token has expired' : undefined);
        }
        const user = await this.users.findById(row.userId, m);
        if (!user || !user.enabled) throw INVALID_GRANT();
        // A session for a client lives by that client's rules now: none once it is disabled or
        // gone, and access tokens within its current lifetime cap.
        const sessionClient =
          row.cid === this.config.DEFAULT_CLIENT_ID ? undefined : await this.clients.find(row.cid, m);
        if (sessionClient === null || sessionClient?.enabled === false) throw INVALID_GRANT();
        const { access, reply } = await this.issuer.issueUserSession(
          user,
          { cid: row.cid, rcid: row.rcid, maxTokenLifetime: sessionClient?.maxTokenLifetime },
          m,
          row.familyId,
          row.sessionExpiresAt,
          { asked: this.scopeAsked(req.scope, row.scope, user.roles), family: row.scope },
        );
        await this.audit.record(
          { type: 'token.refreshed', actor: user.id, subject: user.id, success: true, data: { tid: access.tid } },
          m,
        );
        return reply;
      });
    } catch (err) {
      if (!(err instanceof RefreshReuseDetected)) throw err;
      // Outside the failed transaction: the family must die even though this request fails.
      const count = await this.revocation.revokeFamily(err.familyId, 'refresh_token_reuse', err.userId);
      await this.audit.record({
        type: 'refresh.reuse_detected',
        subject: err.userId,
        success: false,
        data: { familyId: err.familyId, revoked: count },
      });
      throw INVALID_GRANT('Refresh token has already been used');
    }
  }

  /**
   * RFC 6749 §6: a refresh may ask for less than the session was granted, never more
   * (FORBIDDEN: invalid_scope), and asking nothing is asking for all of it again — the refresh
   * token issued keeps the whole original grant, so a later refresh may widen back to it. A role
   * or permission the user has lost since is left out of what is asked; a narrowed session that
   * kept none of its grant is refused (INVALID_GRANT) rather than fall back to everything the user holds.
   * Errors are thrown inside the claiming transaction: the refresh token stays unused.
   */
  private scopeAsked(requested: string | undefined, family: string[] | null, roles: string[]): string[] {
    const asked = scopeTokens(requested);
    if (family) {
      const wider = asked.filter((s) => !family.includes(s));
      if (wider.length)
        throw new PortcullisError('FORBIDDEN', `Scope exceeds what the session was granted: ${wider.join(' ')}`);
    }
    if (asked.length || !family) return asked;
    const kept = family.filter((s) => holdsScope(roles, s));
    if (!kept.length) throw INVALID_GRANT('The scope this session was granted is no longer held');
    return kept;
  }
}
