import { Controller, Inject, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { LoginReply, OidcLoginRequest, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { UsersRepository } from '../users/users.repository';
import { externalSubject, rolesFor, tenantsFor, usernameFor } from './oidc-identity.mapper';
import { OidcLoginError, OidcVerifierService, VerifiedIdentity } from './oidc-verifier.service';
import { ClientAuthenticatorService } from '../oauth/client-authenticator.service';

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** What an IdP sign-in changed in the user's roles and tenants, for the audit; null when nothing. */
function changedAccess(before: { roles: string[]; tenants: string[] }, after: { roles: string[]; tenants: string[] }) {
  const fields: string[] = [];
  const data: Record<string, string[]> = {};
  if (!sameSet(before.roles, after.roles)) {
    fields.push('roles');
    Object.assign(data, { previousRoles: before.roles, roles: after.roles });
  }
  if (!sameSet(before.tenants, after.tenants)) {
    fields.push('tenants');
    Object.assign(data, { previousTenants: before.tenants, tenants: after.tenants });
  }
  return fields.length ? { fields, ...data } : null;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

/**
 * Sign-in with an external IdP's ID token (`auth.v1.oidc.login`, used by the REST route and the
 * token-exchange grant): verify it, provision or refresh the `source: oidc` user just in time,
 * and answer exactly like a password login.
 */
@Controller()
export class OidcLoginHandler {
  private readonly logger = new Logger('OidcLogin');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly verifier: OidcVerifierService,
    private readonly users: UsersRepository,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
    private readonly clientAuth: ClientAuthenticatorService,
  ) {}

  @MessagePattern(SUBJECTS.OIDC_LOGIN)
  async handle(@Payload() payload: unknown): Promise<LoginReply> {
    const req = validatePayload(OidcLoginRequest, payload);
    // RFC 6749 §3.2.1: a client that presents credentials for the exchange must present good ones.
    if (req.client_secret !== undefined) await this.clientAuth.authenticate(req.client_id ?? '', req.client_secret);
    let identity: VerifiedIdentity;
    try {
      identity = await this.verifier.verify(req.idToken, { provider: req.provider, nonce: req.nonce });
    } catch (err) {
      if (err instanceof OidcLoginError) await this.failed(err.provider ?? req.provider ?? null, err.reason, req.ip);
      throw err;
    }

    const { provider, issuer, subject, claims } = identity;
    const roles = rolesFor(provider, claims);
    const tenants = tenantsFor(provider, claims);
    const cid = this.config.DEFAULT_CLIENT_ID;
    const reply = await this.ds
      .transaction(async (m) => {
        const upserted = await this.users.upsertExternal(
          {
            externalSubject: externalSubject(issuer, subject),
            username: usernameFor(provider, subject),
            roles,
            tenants,
          },
          m,
        );
        if (!upserted) return null;
        const { user, created, previous } = upserted;
        const { access, reply } = await this.issuer.issueUserSession(user, { cid, rcid: cid }, m);
        if (created) {
          await this.audit.record(
            {
              type: 'user.created',
              actor: `oidc:${provider.name}`,
              subject: user.id,
              success: true,
              data: { source: 'oidc', provider: provider.name, username: user.username, roles: user.roles },
            },
            m,
          );
        }
        // Joining the IdP group mapped to `admin` makes an administrator here: recorded as the
        // change it is, like an administrator's PATCH, not only inside the sign-in event.
        const changed = previous ? changedAccess(previous, user) : null;
        if (changed) {
          await this.audit.record(
            {
              type: 'user.updated',
              actor: `oidc:${provider.name}`,
              subject: user.id,
              success: true,
              data: { ...changed, source: 'oidc', provider: provider.name },
            },
            m,
          );
        }
        await this.audit.record(
          {
            type: 'oidc.login.succeeded',
            actor: user.id,
            subject: user.id,
            success: true,
            data: { provider: provider.name, tid: access.tid, cid, roles: user.roles, created, ip: req.ip ?? null },
          },
          m,
        );
        // The user has no Portcullis password at all: nothing to prompt a change of.
        return { ...reply, userId: user.id, passwordWasNeverChanged: false };
      })
      .catch(async (err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
        await this.failed(provider.name, 'username_taken', req.ip);
        throw new PortcullisError('CONFLICT', `Username ${usernameFor(provider, subject)} is taken by another account`);
      });
    if (!reply) {
      await this.failed(provider.name, 'disabled', req.ip);
      throw new PortcullisError('INVALID_CREDENTIALS', 'User is disabled');
    }
    return reply;
  }

  /** The audit of a refusal must never replace the refusal itself (e.g. with the database down). */
  private async failed(provider: string | null, reason: string, ip: string | undefined): Promise<void> {
    try {
      await this.audit.record({
        type: 'oidc.login.failed',
        success: false,
        data: { provider, reason, ip: ip ?? null },
      });
    } catch (err) {
      this.logger.warn(`oidc.login.failed not audited: ${(err as Error).message}`);
    }
  }
}
