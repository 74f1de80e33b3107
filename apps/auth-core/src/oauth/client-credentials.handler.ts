import { Controller, Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  AUTH_CORE_QUEUE,
  ClientCredentialsGrantRequest,
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
   * so a secret rotated or a client disabled before the request is never missed.
   */
  async handle(payload: unknown): Promise<ClientCredentialsReply> {
    const req = validatePayload(ClientCredentialsGrantRequest, payload);
    const { client, remembered } = await this.authenticator.authenticateRemembered(req.client_id, req.client_secret);
    const reply = await this.issue(req, client, remembered);
    if (reply) return reply;
    this.authenticator.forget(req.client_id);
    const fresh = await this.authenticator.authenticate(req.client_id, req.client_secret);
    return (await this.issue(req, fresh, false))!;
  }

  /** The reply, or null when `conditional` and the client row changed since it was read. */
  private async issue(
    req: ClientCredentialsGrantRequest,
    client: ClientEntity,
    conditional: boolean,
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
    const recording = this.records.record(issued.row, audit.row, conditional ? client : undefined);
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
