import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AuthClient } from '../auth-client';
import type { AuthClientOptions } from '../auth-client.options';
import { AUTH_CLIENT, AuthGuard } from './auth.guard';

/**
 * `AuthClientModule.forRoot({ natsUrl, mode: 'local' })` in a service's root module; then
 * `@UseGuards(AuthGuard)` with `@Roles`, `@Permissions`, `@Tenant` and `@CurrentPrincipal()`.
 */
@Global()
@Module({})
export class AuthClientModule implements OnApplicationShutdown {
  constructor(@Inject(AUTH_CLIENT) private readonly client: AuthClient) {}

  static forRoot(options: AuthClientOptions): DynamicModule {
    return {
      module: AuthClientModule,
      providers: [{ provide: AUTH_CLIENT, useFactory: () => AuthClient.create(options) }, AuthGuard],
      exports: [AUTH_CLIENT, AuthGuard],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
