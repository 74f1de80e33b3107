import { timingSafeEqual } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ClientWithSecret,
  CreateClientRequest,
  PortcullisError,
  RegisterClientRequest,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { AccessTokensRepository } from '../tokens/access-tokens.repository';
import { RevocationService } from '../tokens/revocation.service';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { isUuid } from '../database/keyset-cursor';
import { Actor, ActorService, requireWithin } from '../tokens/actor.service';
import { generateClientSecret, toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';
import { UsersRepository } from '../users/users.repository';

/** Creating clients: by an administrator, or self-registration with the registration token. */
@Controller()
export class CreateClientHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly actors: ActorService,
    private readonly clients: ClientsRepository,
    private readonly masterKey: MasterKey,
    private readonly audit: AuditService,
    private readonly revocation: RevocationService,
    private readonly users: UsersRepository,
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_CREATE)
  async create(@Payload() payload: unknown): Promise<ClientWithSecret> {
    const req = validatePayload(CreateClientRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    if (req.roles) requireWithin(actor, req.roles, `Granting roles ${req.roles.join(', ')}`);
    if (req.tenants) requireWithin(actor, [], `Granting tenants ${req.tenants.join(', ')}`, req.tenants);
    return this.insert(
      req.clientId,
      {
        roles: req.roles ?? [],
        tenants: req.tenants ?? [],
        description: req.description ?? '',
        maxTokenLifetime: req.maxTokenLifetime ?? null,
        createdBy: actor.claims.sub,
        registered: false,
      },
      actor,
    );
  }

  /** Off unless CLIENT_REGISTRATION_TOKEN is set; the client gets only the default roles. */
  @MessagePattern(SUBJECTS.CLIENTS_REGISTER)
  async register(@Payload() payload: unknown): Promise<ClientWithSecret> {
    const req = validatePayload(RegisterClientRequest, payload);
    const expected = this.config.CLIENT_REGISTRATION_TOKEN;
    if (!expected) throw new PortcullisError('REFUSED', 'Client self-registration is disabled');
    if (!req.registrationToken) throw new PortcullisError('UNAUTHENTICATED', 'A registration token is required');
    const a = this.masterKey.hashSecret(req.registrationToken);
    const b = this.masterKey.hashSecret(expected);
    if (!timingSafeEqual(a, b)) throw new PortcullisError('UNAUTHENTICATED', 'Invalid registration token');
    const roles = this.config.CLIENT_REGISTRATION_DEFAULT_ROLES.split(',').filter(
      (r) => r && r !== 'admin' && r !== 'system',
    );
    return this.insert(req.clientId, {
      roles,
      tenants: [],
      description: req.description ?? '',
      maxTokenLifetime: null,
      createdBy: null,
      registered: true,
    });
  }

  private async insert(
    clientId: string,
    values: {
      roles: string[];
      tenants: string[];
      description: string;
      maxTokenLifetime: number | null;
      createdBy: string | null;
      registered: boolean;
    },
    /** The caller of an administrator's create; none for self-registration. */
    actor?: Actor,
  ): Promise<ClientWithSecret> {
    // The default client of every login is not a row: a client of that id would own every login's
    // tokens (listing and revoking them), and disabling it would disable every login.
    if (clientId.toLowerCase() === this.config.DEFAULT_CLIENT_ID.toLowerCase())
      throw new PortcullisError('CONFLICT', `Client id ${clientId} is reserved`);
    // GET/PATCH /api/v1/clients/me are the caller's own client: a client named `me` could be
    // neither read nor changed by id.
    if (clientId === 'me') throw new PortcullisError('CONFLICT', `Client id ${clientId} is reserved`);
    const secret = generateClientSecret();
    return this.ds.transaction(async (m) => {
      if (actor) await this.actors.requireStillLive(actor, m);
      // A token's `sub` is a user id or a client id: a client named like a user (a UUID) would own
      // that user's tokens (list, read and revoke them as its own). Other UUIDs stay usable as ids;
      // nobody chooses a user's id, so one cannot be taken after this check.
      if (isUuid(clientId) && (await this.users.isOrWasUser(clientId.toLowerCase(), m)))
        throw new PortcullisError('CONFLICT', `Client id ${clientId} is taken`);
      const client = await this.clients.insert(
        { clientId, ...values, secretHash: this.masterKey.hashSecret(secret), enabled: true },
        m,
      );
      await this.audit.record(
        {
          type: values.registered ? 'client.registered' : 'client.created',
          actor: values.createdBy,
          subject: clientId,
          success: true,
          data: { roles: values.roles },
        },
        m,
      );
      // A client deleted earlier under this id is still refused in memory. Every token still on
      // record under this id is the old client's (a grant that read it just before the delete
      // committed wrote its token after the delete's revocation): revoked, and announced, before
      // the new client's are accepted. Announced inside the transaction, after the insert: an id
      // that already exists never gets here, and when the announcement fails nothing is created
      // (no secret shown for a client that is refused).
      await this.revocation.revokeWhere(
        AccessTokensRepository.ownerCondition(true, '$1'),
        [clientId],
        'client_deleted',
        values.createdBy,
        m,
      );
      await this.revocation.setPrincipalDisabled('client', clientId, false);
      return { ...toClientView(client), client_secret: secret };
    });
  }
}
