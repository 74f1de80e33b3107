import { randomBytes } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  API_KEY_PREFIX,
  ApiKeyView,
  ClientApiKeysRequest,
  CreateApiKeyRequest,
  CreatedApiKey,
  generateCredential,
  ListApiKeysRequest,
  Page,
  permissionsOf,
  PortcullisError,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { ClientsRepository } from '../clients/clients.repository';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { retryingTransaction } from '../database/retrying-transaction';
import { MasterKey } from '../keys/master-key';
import { Actor, ActorService, can, requireSession, requireWithin } from '../tokens/actor.service';
import { RevocationService } from '../tokens/revocation.service';
import { ClientEntity } from '../clients/client.entity';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';

/** A key without its own permissions or tenants is shown with the client's, which it follows. */
export const toApiKeyView = (k: ApiKeyEntity, client: Pick<ClientEntity, 'roles' | 'tenants'>): ApiKeyView => ({
  id: k.id,
  name: k.name,
  clientId: k.clientId,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  permissions: k.permissions ?? permissionsOf(client.roles),
  tenants: k.tenants ?? client.tenants,
  followsClient: k.permissions === null || k.tenants === null,
});

/** API keys of a client: issued by administrators or by the client itself, shown once. */
@Controller()
export class ApiKeysHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly masterKey: MasterKey,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly keys: ApiKeysRepository,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
  ) {}

  @MessagePattern(SUBJECTS.API_KEYS_CREATE)
  async create(@Payload() payload: unknown): Promise<CreatedApiKey> {
    const req = validatePayload(CreateApiKeyRequest, payload);
    const { actor, self } = await this.allowed(req.auth, req.clientId);
    const client = await this.clients.get(req.clientId);
    if (!self) requireWithin(actor, client.roles, `Issuing an API key of client ${client.clientId}`, client.tenants);
    const maxDays = this.config.API_KEY_MAX_TTL_DAYS;
    const latest = Date.now() + maxDays * 86400_000;
    const expiresAt = req.expiresAt ? new Date(req.expiresAt) : maxDays ? new Date(latest) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw badExpiry('expiresAt must be in the future');
    if (expiresAt && maxDays && expiresAt.getTime() > latest)
      throw badExpiry(`expiresAt must be within ${maxDays} days (API_KEY_MAX_TTL_DAYS)`);
    const held = permissionsOf(client.roles);
    const tooWide = (req.permissions ?? []).filter((p) => !held.includes(p));
    // What the client lacks is refused to any caller, however wide its token: no insufficient_scope.
    if (tooWide.length)
      throw new PortcullisError('REFUSED', `Permissions not held by the client: ${tooWide.join(', ')}`);
    // A client token narrowed to some roles makes no key wider than itself; a key without a list
    // would follow the client's roles, so it gets the narrowed list written out.
    const ceiling = self ? held.filter((p) => actor.permissions.includes(p)) : held;
    const beyond = (req.permissions ?? []).filter((p) => !ceiling.includes(p));
    if (beyond.length)
      throw new PortcullisError('FORBIDDEN', `Permissions not held by this token: ${beyond.join(', ')}`);
    const permissions = req.permissions ?? (ceiling.length < held.length ? ceiling : null);
    const foreign = client.tenants.includes('*') ? [] : (req.tenants ?? []).filter((t) => !client.tenants.includes(t));
    if (foreign.length) throw new PortcullisError('REFUSED', `Tenants not held by the client: ${foreign.join(', ')}`);

    const apiKey = generateCredential(API_KEY_PREFIX);
    const name = req.name ?? `key-${randomBytes(4).toString('hex')}`;
    return this.ds.transaction(async (m) => {
      // The client's row before the caller's, as a disable or a delete of the client takes it before its tokens.
      await this.clients.getLocked(client.clientId, m, 'pessimistic_read');
      await this.actors.requireStillLive(actor, m);
      const key = await this.keys.insertNamed(
        {
          clientId: client.clientId,
          name,
          keyHash: this.masterKey.hashSecret(apiKey),
          permissions,
          tenants: req.tenants ?? null,
          expiresAt,
          createdAt: new Date(),
        },
        m,
      );
      if (!key) throw new PortcullisError('CONFLICT', `An API key named "${name}" already exists`);
      await this.audit.record(
        {
          type: 'apikey.created',
          actor: actor.claims.sub,
          subject: client.clientId,
          success: true,
          data: { id: key.id, name },
        },
        m,
      );
      return { ...toApiKeyView(key, client), apiKey };
    });
  }

  @MessagePattern(SUBJECTS.API_KEYS_LIST)
  async list(@Payload() payload: unknown): Promise<Page<ApiKeyView>> {
    const req = validatePayload(ListApiKeysRequest, payload);
    await this.allowed(req.auth, req.clientId, 'clients:read');
    const client = await this.clients.get(req.clientId);
    const page = await this.keys.list(req.clientId, req.limit ?? 50, req.cursor);
    return { items: page.items.map((k) => toApiKeyView(k, client)), nextCursor: page.nextCursor };
  }

  /**
   * Deleting a key also revokes every bearer it was exchanged for (they share its id as family).
   * Deleting a deleted key again answers the same and changes nothing (revocation is idempotent).
   */
  @MessagePattern(SUBJECTS.API_KEYS_DELETE)
  async delete(@Payload() payload: unknown): Promise<{ deleted: true }> {
    const req = validatePayload(ClientApiKeysRequest, payload);
    const { actor, self } = await this.allowed(req.auth, req.clientId);
    if (!self) {
      const client = await this.clients.get(req.clientId);
      requireWithin(actor, client.roles, `Deleting an API key of client ${req.clientId}`, client.tenants);
    }
    const key = req.keyId ? await this.keys.findOfClient(req.keyId, req.clientId) : null;
    if (!key) throw new PortcullisError('NOT_FOUND', 'API key not found');
    if (key.deletedAt) return { deleted: true };
    await retryingTransaction(this.ds, async (m) => {
      // The client's row before the key's, as deleting the client takes them (its cascade removes
      // the key last): the other order deadlocked with it. A client deleted meanwhile took the key
      // along and revoked its bearers.
      if (!(await this.clients.findLocked(req.clientId, m, 'pessimistic_read'))) return;
      // A delete running beside this one got there first: it revoked and recorded.
      if (!(await this.keys.softDeleteLive(key.id, m))) return;
      await this.revocation.revokeWhere('family_id = $1', [key.id], 'api_key_deleted', actor.claims.sub, m);
      await this.audit.record(
        {
          type: 'apikey.deleted',
          actor: actor.claims.sub,
          subject: key.clientId,
          success: true,
          data: { id: key.id, name: key.name },
        },
        m,
      );
    });
    return { deleted: true };
  }

  private async allowed(
    auth: string,
    clientId: string,
    permission = 'clients:write',
  ): Promise<{ actor: Actor; self: boolean }> {
    const actor = await this.actors.authenticate(auth);
    const self = !actor.isUser && actor.principalId === clientId;
    if (!self && !can(actor, permission))
      throw new PortcullisError('FORBIDDEN', `Managing API keys of another client needs ${permission}`);
    // Reading its own keys is any own token's; issuing or deleting them is the client's itself.
    if (self && permission !== 'clients:read') requireSession(actor, 'issue or delete API keys');
    return { actor, self };
  }
}

const badExpiry = (message: string) =>
  new PortcullisError('BAD_REQUEST', message, [{ field: 'expiresAt', errors: [message] }]);
