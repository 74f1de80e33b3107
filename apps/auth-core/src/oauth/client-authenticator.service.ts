import { Injectable, Logger } from '@nestjs/common';
import { clientAuthFailed } from '@portcullis/contracts';
import { AuditService } from '../audit/audit.service';
import { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { MasterKey } from '../keys/master-key';

const ZERO_HASH = Buffer.alloc(32);
/** Clients remembered at most; past it the longest-remembered one is forgotten. */
const MAX_REMEMBERED = 10_000;

interface Waiting {
  promise: Promise<ClientEntity | null>;
  resolve: (c: ClientEntity | null) => void;
  reject: (err: unknown) => void;
}

/**
 * OAuth client authentication (client_secret_basic / client_secret_post, decoded by the
 * gateway). Unknown client, wrong secret and disabled client are one answer: invalid_client.
 */
@Injectable()
export class ClientAuthenticatorService {
  /** Client ids with a read in flight, and the callers that arrived after that read started. */
  private readonly reading = new Map<string, Waiting | null>();
  /** Each client as last read when it authenticated (enabled, with a secret). */
  private readonly remembered = new Map<string, ClientEntity>();

  private readonly logger = new Logger('ClientAuthenticator');

  constructor(
    private readonly clients: ClientsRepository,
    private readonly masterKey: MasterKey,
    private readonly audit: AuditService,
  ) {}

  async authenticate(clientId: string, secret: string): Promise<ClientEntity> {
    const client = await this.load(clientId);
    // Compare even when there is no client, so the answer takes the same time.
    const matches = this.masterKey.secretMatches(secret, client?.secretHash ?? ZERO_HASH);
    if (!client || !client.secretHash || !matches || !client.enabled) {
      this.remembered.delete(clientId);
      const reason = !client ? 'unknown_client' : !client.secretHash || !matches ? 'bad_secret' : 'disabled';
      // Every failure writes the same row, so its time tells no reason from another. A failed audit
      // write does not turn the answer into a server error: the caller still hears invalid_client.
      await this.audit
        .record({
          type: 'client.auth_failed',
          subject: client ? client.clientId : null,
          success: false,
          data: { clientId, reason },
        })
        .catch((err: Error) => this.logger.warn(`client.auth_failed not audited: ${err.message}`));
      throw clientAuthFailed();
    }
    this.remember(client);
    return client;
  }

  /**
   * Authenticates against the client as last read, without a read, when that row accepts the
   * secret; otherwise as `authenticate` does. Only for callers whose write then checks that the row
   * is still the same (TokenRecordWriter's `expect`) and call `forget` and `authenticate` when it is
   * not: the answer is then exactly the one a read before the write would have given.
   */
  async authenticateRemembered(clientId: string, secret: string): Promise<ClientEntity> {
    const known = this.remembered.get(clientId);
    if (known && this.masterKey.secretMatches(secret, known.secretHash!)) return known;
    return this.authenticate(clientId, secret);
  }

  forget(clientId: string): void {
    this.remembered.delete(clientId);
  }

  private remember(client: ClientEntity): void {
    this.remembered.delete(client.clientId);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(client.clientId, client);
  }

  /**
   * Reads the client's row, sharing one read among the callers that arrive while another read of
   * the same client is in flight: they all get the next read, which starts once the current one
   * ends. Every caller thus sees a read that began after it arrived — a secret rotated or a client
   * disabled before the request is never missed, unlike with a cache — while a busy client (a
   * service fetching tokens on many connections) costs one query per round trip, not per token.
   */
  private load(clientId: string): Promise<ClientEntity | null> {
    if (!this.reading.has(clientId)) return this.read(clientId);
    let next = this.reading.get(clientId);
    if (!next) {
      let resolve!: Waiting['resolve'];
      let reject!: Waiting['reject'];
      const promise = new Promise<ClientEntity | null>((res, rej) => ((resolve = res), (reject = rej)));
      next = { promise, resolve, reject };
      this.reading.set(clientId, next);
    }
    return next.promise;
  }

  private read(clientId: string): Promise<ClientEntity | null> {
    this.reading.set(clientId, null);
    const done = () => {
      const next = this.reading.get(clientId);
      this.reading.delete(clientId);
      if (next) this.read(clientId).then(next.resolve, next.reject);
    };
    const result = this.clients.find(clientId);
    result.then(done, done);
    return result;
  }
}
