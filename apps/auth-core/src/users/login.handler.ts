import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { LoginReply, PasswordGrantRequest, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig, lockoutPolicy } from '../config/config';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { PasswordHasherService } from './password-hasher.service';
import { ClientsRepository } from '../clients/clients.repository';
import { ClientEntity } from '../clients/client.entity';
import { ClientAuthenticatorService } from '../oauth/client-authenticator.service';
import { scopeTokens } from '../oauth/scope-narrowing';
import { LoginRecordWriter } from './login-record.writer';
import { UsersRepository } from './users.repository';

/** One answer for every way a login can fail, so none of them can be told apart. */
const INVALID_CREDENTIALS = () => new PortcullisError('INVALID_CREDENTIALS', 'Invalid username or password');

@Controller()
export class LoginHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly users: UsersRepository,
    private readonly clients: ClientsRepository,
    private readonly hasher: PasswordHasherService,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
    private readonly records: LoginRecordWriter,
    private readonly clientAuth: ClientAuthenticatorService,
  ) {}

  @MessagePattern(SUBJECTS.LOGIN)
  async handle(@Payload() payload: unknown): Promise<LoginReply> {
    const req = validatePayload(PasswordGrantRequest, payload);
    let client: ClientEntity | null = null;
    if (req.clientSecret !== undefined) {
      if (!req.clientId)
        throw new PortcullisError('BAD_REQUEST', 'clientSecret needs clientId', [
          { field: 'clientId', errors: ['clientId is required with clientSecret'] },
        ]);
      // A client that authenticates must do so correctly (RFC 6749 §4.3.2): UNAUTHENTICATED otherwise.
      client = await this.clientAuth.authenticate(req.clientId, req.clientSecret);
    } else if (req.clientId && req.clientId !== this.config.DEFAULT_CLIENT_ID) {
      // The default client named is no client named (its id is every such token's `cid`, and its
      // refresh already takes it). Judged before the password, so this answer says nothing about it.
      client = await this.clients.find(req.clientId);
      if (!client || !client.enabled) {
        throw new PortcullisError('UNKNOWN_CLIENT', 'Client is unknown or disabled', [
          { field: 'clientId', errors: ['client is unknown or disabled'] },
        ]);
      }
    }
    const user = await this.users.findForLogin(req.username);
    // argon2 runs whatever the state of the account: the time taken reveals nothing.
    const passwordOk = await this.hasher.verify(user?.passwordHash ?? null, req.password);
    const locked = !!user?.lockedUntil && user.lockedUntil.getTime() > Date.now();
    // A federated user signs in at its IdP only, even with a password left on its row: a password
    // would go around the IdP's own checks and the roles it refreshes at each sign-in.
    const federated = user?.source === 'oidc';
    if (!user || !passwordOk || federated || locked || !user.enabled) {
      const reason = !user
        ? 'unknown_user'
        : !passwordOk
          ? 'bad_password'
          : federated
            ? 'federated_user'
            : locked
              ? 'locked'
              : 'disabled';
      // Every failure does the same database work — the failure-counter UPDATE (matching no row
      // unless the password was wrong) and the audit row, in one commit — so the time taken does
      // not tell a wrong password from an unknown user or a locked or disabled account. A wrong
      // password during a lockout is not counted (Keycloak's temporary lockout): the lock ends when
      // it said, and the next failure after it locks again for twice as long.
      await this.ds.transaction(async (m) => {
        const counted = user && !passwordOk && !locked ? user.id : null;
        await this.users.recordFailedLogin(counted, lockoutPolicy(this.config), m);
        await this.audit.record(
          { type: 'login.failed', subject: user?.id ?? null, success: false, data: { reason } },
          m,
        );
      });
      throw INVALID_CREDENTIALS();
    }

    const cid = client?.clientId ?? this.config.DEFAULT_CLIENT_ID;
    // `rcid` is who asked: the client itself when it authenticated (the OAuth password grant with
    // its secret), else Portcullis's own login on the client's behalf. A session an authenticated
    // client asked for is refreshed only by that client, authenticated (refresh-token.handler.ts).
    // The scope (the OAuth password grant's) is judged only now, against the user's roles: judged
    // before the password, its answer would tell anyone what the account holds.
    const scope = scopeTokens(req.scope);
    const session = this.issuer.prepareUserSession(
      user,
      {
        cid,
        rcid: req.clientSecret !== undefined ? cid : this.config.DEFAULT_CLIENT_ID,
        maxTokenLifetime: client?.maxTokenLifetime,
      },
      undefined,
      undefined,
      { asked: scope, family: scope.length ? scope : null },
    );
    const audit = this.audit.prepare({
      type: 'login.succeeded',
      actor: user.id,
      subject: user.id,
      success: true,
      data: { tid: session.access.tid, cid },
    });
    const recorded = await this.records.record({
      userId: user.id,
      passwordHash: user.passwordHash!,
      access: session.accessRow,
      refresh: session.refreshRow,
      audit: audit.row,
    });
    if (!recorded) {
      // The password changed (or the user was disabled) while this one was being checked.
      await this.audit.record({ type: 'login.failed', subject: user.id, success: false, data: { reason: 'stale' } });
      throw INVALID_CREDENTIALS();
    }
    this.audit.announce(audit.event);
    return { ...session.reply, userId: user.id, passwordWasNeverChanged: user.passwordChangedAt === null };
  }
}
