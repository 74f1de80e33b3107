import { Global, Module } from '@nestjs/common';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from './config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AuthCoreConfig) {
    return {
      module: ConfigModule,
      providers: [{ provide: AUTH_CORE_CONFIG, useValue: config }],
      exports: [AUTH_CORE_CONFIG],
    };
  }
}
