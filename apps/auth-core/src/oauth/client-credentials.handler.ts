import { Controller, Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  AUTH_CORE_QUEUE,
  ClientCredentialsGrantRequest,
  PortcullisError,
  SUBJECTS,
  TokenReply,
  validatePayload,
} from '@portcullis/contracts';
import { AuditService } from '../audit/audit.service';
import { ClientEntity } from '../clients/client.entity';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { DirectResponder } from '../nats/direct-responder';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { RevocationCacheService } from '../tokens/revocation-cache.service';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { TokenRecordWriter } from '../tokens/token-record.writer';
import { ClientAuthenticatorService } from './client-authenticator.service';
import { narrowToScope, scopeTokens } from './scope-narrowing';

/** Reads of the client per request, at most: the remembered row, then fresh ones while it changes. */
const MAX_ATTEMPTS = 3;

export interface ClientCredentialsReply extends TokenReply {
  scope?: string;
}

/**
 * RFC 6749 §4.4. `scope` narrows the token (narrowToScope, the rule the password and refresh
 * grants follow too).
 *
 * Served on a subscription of its own (DirectResponder), not through Nest's dispatch: machines
 * fetch tokens at a high rate and the grant's own work per request is small. Like validate, it
 * subscribes once the replica's keys and revocations are loaded and drains at shutdown.
 */
@Controller()
export class ClientCredentialsHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ClientCredentials');
  private readonly responder = new DirectResponder(
    SUBJECTS.OAUTH_CLIENT_CREDENTIALS,
    (payload) => this.handle(payload),
    this.logger,
  );
  private closed = false;

  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly authenticator: ClientAuthenticatorService,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
    private readonly records: TokenRecordWriter,
    private readonly nats: NatsConnectionService,
    private readonly revocations: RevocationCacheService,
  ) {}

  /** StartupService loads the signing keys, then revocations: no token is issued before both. */
  async onApplicationBootstrap(): Promise<void> {
    if (!(await this.revocations.whenLoaded(() => this.closed))) return;
    const nc = await this.nats.connection();
    if (this.closed) return;
    this.responder.subscribe(nc, AUTH_CORE_QUEUE);
    await nc.flush();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.logger.log(`draining ${SUBJECTS.OAUTH_CLIENT_CREDENTIALS}: ${this.responder.inFlight} request(s) in flight`);
    await this.responder.drain();
  }

  /**
   * The token is built from the client as last read and recorded only if the row is still that
   * (one statement, no read before it); when it is not, the request starts over from a fresh read,
   * so a secret rotated or a client disabled before the request is never missed. A fresh read is
   * checked the same way: a change committed between it and the record (a role removed with its
   * tokens revoked) must not let a token of the old row through either.
   */
  async handle(payload: unknown): Promise<ClientCredentialsReply> {
    const req = validatePayload(ClientCredentialsGrantRequest, payload);
    let client = await this.authenticator.authenticateRemembered(req.client_id, req.client_secret);
    for (let attempt = 1; ; attempt++) {
      const reply = await this.issue(req, client);
      if (reply) return reply;
      // Only a row that keeps changing under the request gets here more than once.
      if (attempt === MAX_ATTEMPTS)
        throw new PortcullisError('UNAVAILABLE', `Client ${req.client_id} changed while its token was issued; retry`);
      this.authenticator.forget(req.client_id);
      client = await this.authenticator.authenticate(req.client_id, req.client_secret);
    }
  }

  /** The reply, or null when the client row changed since it was read. */
  private async issue(
    req: ClientCredentialsGrantRequest,
    client: ClientEntity,
  ): Promise<ClientCredentialsReply | null> {
    const requested = scopeTokens(req.scope);
    const { roles, perms } = narrowToScope(client.roles, requested, 'client');
    const ttl = Math.min(this.config.ACCESS_TOKEN_TTL, client.maxTokenLifetime ?? Infinity);
    const issued = this.issuer.prepare({
      sub: client.clientId,
      cid: client.clientId,
      rcid: client.clientId,
      typ: 'client',
      roles,
      tenants: client.tenants,
      perms,
      ttlSeconds: ttl,
    });
    const audit = this.audit.prepare({
      type: 'token.issued',
      actor: client.clientId,
      subject: client.clientId,
      success: true,
      data: { tid: issued.tid, grant: 'client_credentials' },
    });
    // The rows do not hold the token, so it is signed while PostgreSQL commits them (`record` first:
    // the statement goes out before the signing starts) and handed out only once both are done.
    const recording = this.records.record(issued.row, audit.row, client);
    const [signed, recorded] = await Promise.allSettled([this.records.whileCommitting(issued.sign), recording]);
    if (recorded.status === 'rejected') throw recorded.reason;
    if (signed.status === 'rejected') {
      // Only a broken key gets here. The token never left, so its rows go too: nothing half-written.
      if (recorded.value)
        await this.records
          .discard(issued.tid, audit.row.id)
          .catch((err: Error) => this.logger.error(`token ${issued.tid} recorded but not issued: ${err.message}`));
      throw signed.reason;
    }
    if (!recorded.value) return null;
    const token = signed.value;
    this.audit.announce(audit.event);
    return {
      access_token: token,
      token_type: 'Bearer' as const,
      expires_in: ttl,
      roles,
      tid: issued.tid,
      ...(requested.length ? { scope: requested.join(' ') } : {}),
    };
  }
}
