import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClientLifecycleHandler } from './clients/client-lifecycle.handler';
import { ClientRolesHandler } from './clients/client-roles.handler';
import { ClientsRepository } from './clients/clients.repository';
import { CreateClientHandler } from './clients/create-client.handler';
import { ReadClientsHandler } from './clients/read-clients.handler';
import { UpdateClientHandler } from './clients/update-client.handler';
import { ClientAuthenticatorService } from './oauth/client-authenticator.service';
import { ClientCredentialsHandler } from './oauth/client-credentials.handler';
import { IntrospectHandler } from './oauth/introspect.handler';
import { RevokeHandler } from './oauth/revoke.handler';
import { RefreshTokensRepository } from './tokens/refresh-tokens.repository';
import { ApiKeyExchangeHandler } from './credentials/api-key-exchange.handler';
import { ApiKeysHandler } from './credentials/api-keys.handler';
import { PatResolverService } from './credentials/pat-resolver.service';
import { PatsHandler } from './credentials/pats.handler';
import { PatsRepository } from './credentials/pats.repository';
import { ApiKeysRepository } from './credentials/api-keys.repository';
import { ChangePasswordHandler } from './users/change-password.handler';
import { ManageUsersHandler } from './users/manage-users.handler';
import { UserCredentialsHandler } from './users/user-credentials.handler';
import { UserSessionsService } from './users/user-sessions.service';
import { AdminContinuityService } from './users/admin-continuity.service';
import { OidcConfigHandler } from './federation/oidc-config.handler';
import { OidcKeysService } from './federation/oidc-keys.service';
import { OidcLoginHandler } from './federation/oidc-login.handler';
import { OidcProvidersService } from './federation/oidc-providers.service';
import { OidcVerifierService } from './federation/oidc-verifier.service';
import { HeartbeatService } from './events/heartbeat.service';
import { KeysHandler } from './keys/keys.handler';
import { ListAuditHandler } from './audit/list-audit.handler';
import { AuditRepository } from './audit/audit.repository';
import { AuditService } from './audit/audit.service';
import { AuthCoreConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { EventBusService } from './events/event-bus.service';
import { HealthController } from './health/health.controller';
import { ShutdownState } from './health/shutdown-state';
import { KeyRingService } from './keys/key-ring.service';
import { MasterKeyRotationService } from './keys/master-key-rotation.service';
import { MasterKey } from './keys/master-key';
import { SigningKeysRepository } from './keys/signing-keys.repository';
import { NatsConnectionService } from './nats/nats-connection.service';
import { StartupService } from './startup.service';
import { StatusHandler } from './status/status.handler';
import { AccessTokensRepository } from './tokens/access-tokens.repository';
import { ActorService } from './tokens/actor.service';
import { CleanupTokensHandler } from './tokens/cleanup-tokens.handler';
import { CreateTokenHandler } from './tokens/create-token.handler';
import { ExtendedTokenHandler } from './tokens/extended-token.handler';
import { ListTokensHandler } from './tokens/list-tokens.handler';
import { RevokeTokensHandler } from './tokens/revoke-tokens.handler';
import { SystemTokenHandler } from './tokens/system-token.handler';
import { TokenByIdHandler } from './tokens/token-by-id.handler';
import { TokenCleanupScheduler } from './tokens/token-cleanup.scheduler';
import { LogoutHandler } from './tokens/logout.handler';
import { MeHandler } from './tokens/me.handler';
import { RefreshTokenHandler } from './tokens/refresh-token.handler';
import { RevocationCacheService } from './tokens/revocation-cache.service';
import { RevocationService } from './tokens/revocation.service';
import { TokenIssuerService } from './tokens/token-issuer.service';
import { TokenRecordWriter } from './tokens/token-record.writer';
import { TokenValidationService } from './tokens/token-validation.service';
import { ValidateTokenHandler } from './tokens/validate-token.handler';
import { ValidateReadiness } from './tokens/validate-readiness';
import { ValidateWorkers } from './tokens/validate-workers.service';
import { AdminBootstrapService } from './users/admin-bootstrap.service';
import { LoginHandler } from './users/login.handler';
import { LoginRecordWriter } from './users/login-record.writer';
import { PasswordHasherService } from './users/password-hasher.service';
import { UsersRepository } from './users/users.repository';

@Module({})
export class AppModule {
  static forRoot(config: AuthCoreConfig) {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE, config.DB_QUERY_TIMEOUT_MS),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        TerminusModule,
      ],
      controllers: [
        HealthController,
        StatusHandler,
        ValidateTokenHandler,
        LoginHandler,
        RefreshTokenHandler,
        LogoutHandler,
        MeHandler,
        ListTokensHandler,
        CreateTokenHandler,
        TokenByIdHandler,
        RevokeTokensHandler,
        CleanupTokensHandler,
        SystemTokenHandler,
        ExtendedTokenHandler,
        CreateClientHandler,
        ReadClientsHandler,
        UpdateClientHandler,
        ClientLifecycleHandler,
        ClientRolesHandler,
        ClientCredentialsHandler,
        IntrospectHandler,
        RevokeHandler,
        ManageUsersHandler,
        ChangePasswordHandler,
        UserCredentialsHandler,
        PatsHandler,
        ApiKeysHandler,
        ApiKeyExchangeHandler,
        OidcConfigHandler,
        OidcLoginHandler,
        KeysHandler,
        ListAuditHandler,
      ],
      providers: [
        { provide: MasterKey, useValue: new MasterKey(config.MASTER_KEY, config.MASTER_KEY_PREVIOUS?.split(',')) },
        NatsConnectionService,
        EventBusService,
        AuditService,
        AuditRepository,
        KeyRingService,
        MasterKeyRotationService,
        SigningKeysRepository,
        RevocationCacheService,
        RevocationService,
        TokenIssuerService,
        TokenRecordWriter,
        LoginRecordWriter,
        TokenValidationService,
        ValidateWorkers,
        ValidateReadiness,
        PasswordHasherService,
        UsersRepository,
        PatsRepository,
        ApiKeysRepository,
        AdminBootstrapService,
        ShutdownState,
        StartupService,
        ActorService,
        AccessTokensRepository,
        TokenCleanupScheduler,
        ClientsRepository,
        ClientAuthenticatorService,
        RefreshTokensRepository,
        PatResolverService,
        UserSessionsService,
        AdminContinuityService,
        OidcProvidersService,
        OidcKeysService,
        OidcVerifierService,
        HeartbeatService,
      ],
    };
  }
}
