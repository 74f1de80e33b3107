export * from './auth-client';
export * from './auth-client.options';
export * from './nest/auth-client.module';
export * from './nest/auth.guard';
export * from './nest/decorators';
export type { Requirements } from '@portcullis/jwt';
