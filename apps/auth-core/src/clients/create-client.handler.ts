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
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { MasterKey } from '../keys/master-key';
import { ActorService } from '../tokens/actor.service';
import { generateClientSecret, toClientView } from './client-view';
import { ClientsRepository } from './clients.repository';

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
  ) {}

  @MessagePattern(SUBJECTS.CLIENTS_CREATE)
  async create(@Payload() payload: unknown): Promise<ClientWithSecret> {
    const req = validatePayload(CreateClientRequest, payload);
    const actor = await this.actors.authenticate(req.auth, 'clients:write');
    return this.insert(req.clientId, {
      roles: req.roles ?? [],
      tenants: req.tenants ?? [],
      description: req.description ?? '',
      maxTokenLifetime: req.maxTokenLifetime ?? null,
      createdBy: actor.claims.sub,
      registered: false,
    });
  }

  /** Off unless CLIENT_REGISTRATION_TOKEN is set; the client gets only the default roles. */
  @MessagePattern(SUBJECTS.CLIENTS_REGISTER)
  async register(@Payload() payload: unknown): Promise<ClientWithSecret> {
    const req = validatePayload(RegisterClientRequest, payload);
    const expected = this.config.CLIENT_REGISTRATION_TOKEN;
    if (!expected) throw new PortcullisError('FORBIDDEN', 'Client self-registration is disabled');
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
  ): Promise<ClientWithSecret> {
    const secret = generateClientSecret();
    return this.ds.transaction(async (m) => {
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
      return { ...toClientView(client), client_secret: secret };
    });
  }
}
