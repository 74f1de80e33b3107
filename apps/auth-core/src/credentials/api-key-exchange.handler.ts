import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  API_KEY_ERRORS,
  API_KEY_PREFIX,
  ApiKeyExchangeReply,
  ApiKeyExchangeRequest,
  isWellFormedCredential,
  looksLikeCredential,
  permissionsOf,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ClientsRepository } from '../clients/clients.repository';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { ApiKeysRepository } from './api-keys.repository';
import { narrowTenants } from './narrow-tenants';
import { ClientAuthenticatorService } from '../oauth/client-authenticator.service';

/**
 * Exchanges an API key for a short-lived bearer (`typ: apikey`). The three failures are told
 * apart on purpose (SPEC §4): malformed is the caller's configuration, expired asks for a new
 * key, and unknown or revoked is plain "Unauthenticated".
 */
@Controller()
export class ApiKeyExchangeHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly masterKey: MasterKey,
    private readonly issuer: TokenIssuerService,
    private readonly audit: AuditService,
    private readonly clientAuth: ClientAuthenticatorService,
    private readonly keys: ApiKeysRepository,
    private readonly clients: ClientsRepository,
  ) {}

  @MessagePattern(SUBJECTS.API_KEYS_EXCHANGE)
  async handle(@Payload() payload: unknown): Promise<ApiKeyExchangeReply> {
    const req = validatePayload(ApiKeyExchangeRequest, payload);
    // RFC 6749 §3.2.1: a client that presents credentials for the exchange must present good ones.
    if (req.client_secret !== undefined) await this.clientAuth.authenticate(req.client_id ?? '', req.client_secret);
    if (!looksLikeCredential(req.apiKey, API_KEY_PREFIX))
      throw new PortcullisError('UNHANDLED_REQUEST_ERROR', API_KEY_ERRORS.MALFORMED);
    // A key with the wrong checksum was never issued: unknown, without a look-up.
    if (!isWellFormedCredential(req.apiKey, API_KEY_PREFIX))
      throw new PortcullisError('UNAUTHENTICATED', API_KEY_ERRORS.UNKNOWN);
    const key = await this.keys.findByHash(this.masterKey.hashSecret(req.apiKey));
    if (!key) throw new PortcullisError('UNAUTHENTICATED', API_KEY_ERRORS.UNKNOWN);
    // Whole seconds, as a token's exp: the bearer ends no later than the key (as a token minted from
    // a PAT ends with the PAT), so an expired key does not keep working through what it was
    // exchanged for; a key with less than a second left is as good as expired.
    const keyLeft = key.expiresAt
      ? Math.floor(key.expiresAt.getTime() / 1000) - Math.floor(Date.now() / 1000)
      : Infinity;

    return this.ds.transaction(async (m) => {
      // The client row first, shared (a delete, disable or role change takes it before the client's
      // tokens and keys): such a change either waits for this bearer, and then revokes it with the
      // client's tokens, or has committed, and the bearer is built from the row as it now is. Read
      // before the transaction, a role removed with its tokens revoked could outlive the change here.
      const client = await this.clients.findLocked(key.clientId, m, 'pessimistic_read');
      if (!client || !client.enabled) throw new PortcullisError('UNAUTHENTICATED', API_KEY_ERRORS.UNKNOWN);
      if (keyLeft <= 0) throw new PortcullisError('UNAUTHENTICATED', API_KEY_ERRORS.EXPIRED);
      const held = permissionsOf(client.roles);
      const ttl = Math.min(this.config.API_KEY_TOKEN_TTL, client.maxTokenLifetime ?? Infinity, keyLeft);
      // Then the key, so a delete of the key either waits for this bearer (and revokes it) or has won.
      if (!(await this.keys.markUsedIfLive(key.id, req.ip, m)))
        throw new PortcullisError('UNAUTHENTICATED', API_KEY_ERRORS.UNKNOWN);
      const issued = await this.issuer.issueAccess(
        {
          sub: client.clientId,
          cid: client.clientId,
          rcid: client.clientId,
          typ: 'apikey',
          roles: client.roles,
          // A key without its own list follows the client's.
          tenants: key.tenants ? narrowTenants(key.tenants, client.tenants) : client.tenants,
          perms: key.permissions ? key.permissions.filter((p) => held.includes(p)) : undefined,
          ttlSeconds: ttl,
          familyId: key.id,
        },
        m,
      );
      await this.audit.record(
        {
          type: 'token.issued',
          actor: client.clientId,
          subject: client.clientId,
          success: true,
          data: { tid: issued.tid, via: 'apikey', keyId: key.id },
        },
        m,
      );
      const newIp = !!req.ip && req.ip !== key.lastUsedIp;
      if (newIp) {
        await this.audit.record(
          {
            type: 'apikey.used_from_new_ip',
            actor: client.clientId,
            subject: client.clientId,
            success: true,
            data: { id: key.id, ip: req.ip, previousIp: key.lastUsedIp },
          },
          m,
        );
      }
      return { token: issued.token, expires_in: ttl, tid: issued.tid, roles: client.roles };
    });
  }
}
