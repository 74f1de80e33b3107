import { WithProcessEnv } from '@portcullis/observability';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import {
  CLIENT_ID_PATTERN,
  EnvCheck,
  MAX_PASSWORD_LENGTH,
  RolePermissions,
  SIGNING_ALGORITHMS,
  SigningKeyAlgorithm,
  toBoolean,
} from '@portcullis/contracts';
import { OidcProviders } from '../federation/oidc-providers.config';
import { NatsEnvDto, NatsUrlList } from '@portcullis/nats-options';
import { DatabaseUrl } from '../database/database-url';
import { Issuer } from './issuer.constraint';
import { AdminPassword } from './admin-password.constraint';
import { DistinctList } from './distinct-list.constraint';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** Environment of auth-core (SPEC §6), validated once at boot; NATS auth/TLS settings come from NatsEnvDto. */
export class AuthCoreEnvDto extends WithProcessEnv(NatsEnvDto) {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: string = 'development';

  @IsString()
  @DatabaseUrl()
  DATABASE_URL!: string;

  @NatsUrlList()
  NATS_URL: string = 'nats://127.0.0.1:4222';

  @IsString()
  @Issuer()
  ISSUER: string = 'http://localhost:3000';

  @IsString()
  @MinLength(1)
  AUDIENCE: string = 'portcullis';

  /** Encrypts signing keys at rest and keys the secret hashes. Required in production. */
  @ValidateIf((o: AuthCoreEnvDto) => o.NODE_ENV === 'production' || o.MASTER_KEY !== undefined)
  @IsString()
  @MinLength(32, { message: 'MASTER_KEY must be at least 32 characters' })
  MASTER_KEY?: string;

  /**
   * The MASTER_KEYs before this one, comma-separated: at start the signing keys and the secret-hash
   * key stored under one of them are stored again under MASTER_KEY, after which they can go.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[^,]{32,}(,[^,]{32,})*$/, {
    message: 'MASTER_KEY_PREVIOUS must be a comma list of keys of at least 32 characters each',
  })
  MASTER_KEY_PREVIOUS?: string;

  /** The algorithm of the first signing key and of a rotation that names none. */
  @IsIn(SIGNING_ALGORITHMS, { message: `SIGNING_ALGORITHM must be one of ${SIGNING_ALGORITHMS.join(', ')}` })
  SIGNING_ALGORITHM: SigningKeyAlgorithm = 'ES256';

  @IsString()
  @Matches(/^[A-Za-z0-9._@-]{1,128}$/, { message: 'ADMIN_USERNAME must be 1-128 of [A-Za-z0-9._@-]' })
  ADMIN_USERNAME: string = 'admin';

  /** The most powerful account: held to the rule every other password is (users/password-policy). */
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'ADMIN_PASSWORD must be at least 12 characters' })
  @MaxLength(MAX_PASSWORD_LENGTH, { message: `ADMIN_PASSWORD must be at most ${MAX_PASSWORD_LENGTH} characters` })
  @AdminPassword()
  ADMIN_PASSWORD?: string;

  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(86400)
  ACCESS_TOKEN_TTL: number = 900;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(31536000)
  REFRESH_TOKEN_TTL: number = 2592000;

  /**
   * The most a session may last however often it is refreshed (Keycloak's "SSO Session Max"):
   * REFRESH_TOKEN_TTL is renewed by every refresh, so without it a session kept busy (or a stolen
   * refresh token kept rotating) never ends. 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(315360000)
  @ValidateIf((o: AuthCoreEnvDto) => o.SESSION_MAX_TTL !== 0)
  @Min(60, { message: 'SESSION_MAX_TTL must be 0 (no limit) or at least 60' })
  SESSION_MAX_TTL: number = 7776000;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(31536000)
  EXTENDED_TOKEN_MAX_TTL: number = 2592000;

  /** Upper bound on `token_life` for tokens minted through POST /tokens. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(31536000)
  TOKEN_MAX_TTL: number = 86400;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  PAT_MAX_TTL_DAYS: number = 365;

  /**
   * Longest API key an administrator may issue, in days; 0: no bound, and a key may have no expiry
   * at all (a machine credential, as a Keycloak client secret or a Hydra client's by default). Set,
   * a key without `expiresAt` gets the longest allowed, as a PAT gets its default.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3650)
  API_KEY_MAX_TTL_DAYS: number = 0;

  /** Lifetime of the bearer an API key is exchanged for. */
  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(86400)
  API_KEY_TOKEN_TTL: number = 300;

  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(86400)
  SYSTEM_TOKEN_TTL: number = 300;

  /** Scheduled purge of expired token records; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(604800)
  CLEANUP_INTERVAL_SECONDS: number = 3600;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  CLOCK_SKEW: number = 30;

  /**
   * How long after a rotation a replica may still sign with the key it retired (each hears of a
   * rotation within milliseconds and retries a failed key reload every 5 s). Only then does the
   * retired key's verifyUntil come down to the expiry of the tokens it signed. Longer than
   * CLOCK_SKEW: the grace is measured on the clock of the replica that narrows the key, which may
   * run CLOCK_SKEW ahead of the rotating one's; a shorter grace could narrow it while replicas still
   * sign with it, and the key leave the JWKS before those tokens expire.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  @EnvCheck('longerThanClockSkew', (grace, args) => {
    const skew = (args.object as AuthCoreEnvDto).CLOCK_SKEW;
    return typeof grace !== 'number' || typeof skew !== 'number' || grace > skew
      ? null
      : `KEY_RETIREMENT_GRACE_SECONDS must be greater than CLOCK_SKEW (${skew})`;
  })
  KEY_RETIREMENT_GRACE_SECONDS: number = 60;

  /**
   * Worker threads that verify token signatures beside the main thread (0: verify inline). Worth
   * it only where this replica has 2+ CPUs to itself; a 1-CPU pod should keep 0.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(16)
  VERIFY_WORKERS: number = 0;

  /**
   * libuv's pool, where the password hashes run (runtime/hash-threads sizes it when unset). libuv
   * reads it itself and makes anything it cannot use (a typo, 0) a pool of one thread, silently.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  UV_THREADPOOL_SIZE?: number;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'CLIENT_REGISTRATION_TOKEN must be at least 16 characters' })
  CLIENT_REGISTRATION_TOKEN?: string;

  /**
   * Roles a self-registered client gets; admin and system are never allowed here. Each is a role
   * the API could grant (ROLE_PATTERN), once: the list is stored as given on every such client.
   */
  @IsString()
  @Matches(/^(?!.*\b(admin|system)\b)[A-Za-z0-9][A-Za-z0-9._:-]{0,63}(,[A-Za-z0-9][A-Za-z0-9._:-]{0,63})*$/, {
    message: 'CLIENT_REGISTRATION_DEFAULT_ROLES must be a comma list of roles without admin or system',
  })
  @DistinctList()
  CLIENT_REGISTRATION_DEFAULT_ROLES: string = 'service';

  /** External identity providers (JSON array or the path of a file holding one); see federation/. */
  @IsOptional()
  @IsString()
  @OidcProviders()
  OIDC_PROVIDERS?: string;

  /** JSON role → permissions, replacing the defaults role by role; the same value on every app. */
  @IsOptional()
  @IsString()
  @RolePermissions()
  ROLE_PERMISSIONS?: string;

  /** One deadline for fetching an IdP's discovery document and JWKS; below the gateway's timeout. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(30000)
  OIDC_HTTP_TIMEOUT_MS: number = 3000;

  /** IdP keys younger than this are used without asking the IdP again. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  OIDC_JWKS_CACHE_SECONDS: number = 600;

  /** Minimum time between two JWKS fetches of one IdP (unknown `kid`, retry after a failure). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  OIDC_JWKS_COOLDOWN_SECONDS: number = 30;

  // true/1 or false/0 and nothing else: anything else read as false, and a typo skipped the migrations.
  @Transform(toBoolean)
  @IsBoolean({ message: 'MIGRATE_ON_START must be true or false' })
  MIGRATE_ON_START: boolean = true;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  HEALTH_PORT: number = 3001;

  @Transform(toInt)
  @IsInt()
  @Min(3)
  @Max(100)
  LOCKOUT_THRESHOLD: number = 5;

  /** First lockout after the threshold; it doubles with each further failure, up to 15 minutes. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  LOCKOUT_BASE_SECONDS: number = 30;

  /**
   * Failed logins older than this are forgotten before the next one counts (Keycloak's "failure
   * reset time"): without it a few typos months apart add up, and one more locks the account at a
   * doubled length. 0 keeps them until a successful login.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(2592000)
  LOCKOUT_RESET_SECONDS: number = 43200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE: number = 10;

  /** Client-side bound on acquiring a connection and on each query (a hung database answers 503). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  DB_QUERY_TIMEOUT_MS: number = 2000;

  /** The `cid` of a login made without a client: shaped like any client id (CLIENT_ID_PATTERN). */
  @IsOptional()
  @IsString()
  @Matches(CLIENT_ID_PATTERN, {
    message: 'DEFAULT_CLIENT_ID must be a client id: 1-128 of [A-Za-z0-9._:-], starting with a letter or digit',
  })
  DEFAULT_CLIENT_ID: string = 'portcullis';

  @IsOptional()
  @IsString()
  MASTER_KEY_FILE?: string;
}
