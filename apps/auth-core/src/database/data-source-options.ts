import { DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from '../credentials/api-key.entity';
import { PatAddressEntity } from '../credentials/pat-address.entity';
import { PersonalAccessTokenEntity } from '../credentials/personal-access-token.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { SigningKeyEntity } from '../keys/signing-key.entity';
import { AccessTokenEntity } from '../tokens/access-token.entity';
import { RefreshTokenEntity } from '../tokens/refresh-token.entity';
import { ClientEntity } from '../clients/client.entity';
import { UserEntity } from '../users/user.entity';
import { Credentials1763900000000 } from './migrations/1763900000000-credentials';
import { InitialSchema1763800000000 } from './migrations/1763800000000-initial-schema';
import { OidcFederation1764000000000 } from './migrations/1764000000000-oidc-federation';
import { PatAddresses1764100000000 } from './migrations/1764100000000-pat-addresses';
import { DeletedCredentials1764200000000 } from './migrations/1764200000000-deleted-credentials';
import { SystemTokenMinters1764300000000 } from './migrations/1764300000000-system-token-minters';
import { SessionMax1764400000000 } from './migrations/1764400000000-session-max';
import { FailedLoginReset1764500000000 } from './migrations/1764500000000-failed-login-reset';
import { RefreshTokenScope1764600000000 } from './migrations/1764600000000-refresh-token-scope';
import { MasterKeyMaterial1764710000000 } from './migrations/1764710000000-master-key-material';
import { SigningKeyNarrowed1764800000000 } from './migrations/1764800000000-signing-key-narrowed';

export const ENTITIES = [
  UserEntity,
  ClientEntity,
  SigningKeyEntity,
  AccessTokenEntity,
  RefreshTokenEntity,
  AuditEventEntity,
  PersonalAccessTokenEntity,
  PatAddressEntity,
  ApiKeyEntity,
];
export const MIGRATIONS = [
  InitialSchema1763800000000,
  Credentials1763900000000,
  OidcFederation1764000000000,
  PatAddresses1764100000000,
  DeletedCredentials1764200000000,
  SystemTokenMinters1764300000000,
  SessionMax1764400000000,
  FailedLoginReset1764500000000,
  RefreshTokenScope1764600000000,
  MasterKeyMaterial1764710000000,
  SigningKeyNarrowed1764800000000,
];

/**
 * `queryTimeoutMs` bounds every query on the client side: a database that hangs (rather than
 * refuses) must turn into a prompt 503, not a request stuck past every caller's timeout. The
 * migrations runner passes none — a schema change may legitimately take long.
 */
export function dataSourceOptions(url: string, poolSize = 10, queryTimeoutMs?: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'portcullis_migrations',
    // Schema changes only ever come from migrations.
    synchronize: false,
    migrationsRun: false,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: queryTimeoutMs ?? 3000,
      statement_timeout: 5000,
      ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
    },
  };
}
