import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TerminusModule } from '@nestjs/terminus';
import { AuditController } from './audit/audit.controller';
import { AuthController } from './auth/auth.controller';
import { TokenValidatorService } from './auth/token-validator.service';
import { FailedLoginThrottleService } from './auth/failed-login-throttle.service';
import { BearerStrategy } from './auth/bearer.strategy';
import { GATEWAY_CONFIG, GatewayConfig } from './config/gateway-config';
import { CoreClientService } from './core/core-client.service';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { StrictValidationPipe } from './errors/validation.pipe';
import { HealthController } from './health/health.controller';
import { GatewayShutdownState } from './health/shutdown-state';
import { ClientsController } from './clients/clients.controller';
import { ClientCredentialsGrant } from './oauth/client-credentials.grant';
import { ApiKeyExchangeController } from './auth/api-key-exchange.controller';
import { ApiKeysController } from './clients/api-keys.controller';
import { TokenExchangeGrant } from './oauth/token-exchange.grant';
import { OidcController } from './federation/oidc.controller';
import { UsersController } from './users/users.controller';
import { KeysController } from './keys/keys.controller';
import { OAuthController } from './oauth/oauth.controller';
import { PasswordGrant } from './oauth/password.grant';
import { RefreshTokenGrant } from './oauth/refresh-token.grant';
import { StatusController } from './status/status.controller';
import { TokensController } from './tokens/tokens.controller';
import { WellKnownController } from './well-known/well-known.controller';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig) {
    return {
      module: AppModule,
      imports: [PassportModule, TerminusModule],
      controllers: [
        AuthController,
        OAuthController,
        WellKnownController,
        StatusController,
        HealthController,
        TokensController,
        ClientsController,
        ApiKeysController,
        UsersController,
        ApiKeyExchangeController,
        OidcController,
        KeysController,
        AuditController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        CoreClientService,
        BearerStrategy,
        PasswordGrant,
        RefreshTokenGrant,
        ClientCredentialsGrant,
        TokenExchangeGrant,
        GatewayShutdownState,
        FailedLoginThrottleService,
        TokenValidatorService,
      ],
    };
  }
}
