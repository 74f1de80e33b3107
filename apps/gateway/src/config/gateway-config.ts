import { WithProcessEnv } from '@portcullis/observability';
import { loadEnv, RolePermissions, toBoolean } from '@portcullis/contracts';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { NatsEnvDto, NatsUrlList } from '@portcullis/nats-options';
import { TrustProxy } from './trust-proxy.constraint';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** Environment of the gateway (SPEC §6), validated once at boot; NATS auth/TLS settings come from NatsEnvDto. */
export class GatewayEnvDto extends WithProcessEnv(NatsEnvDto) {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @NatsUrlList()
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /** JSON role → permissions, replacing the defaults role by role; the same value on every app. */
  @IsOptional()
  @IsString()
  @RolePermissions()
  ROLE_PERMISSIONS?: string;

  /** Upper bound on any request to auth-core; past it the caller gets 503, never a hang. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  REQUEST_TIMEOUT_MS: number = 5000;

  /** Failed logins one address may make per window before it is blocked (counted across the gateway replicas). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  LOGIN_FAILURES_PER_IP: number = 20;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  LOGIN_FAILURE_WINDOW_SECONDS: number = 60;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  LOGIN_BLOCK_SECONDS: number = 300;

  /**
   * Behind an ingress or load balancer: trust X-Forwarded-For from these hops (Fastify's
   * `trustProxy`: `true`, or a comma list of addresses/CIDRs), so the failed-login
   * throttle and audits see the caller, not the proxy. Unset: the socket address is the caller.
   */
  @IsOptional()
  @IsString()
  @TrustProxy()
  TRUST_PROXY?: string;

  /** Request bodies above this are refused with 413 before they are parsed. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10485760)
  BODY_LIMIT_BYTES: number = 65536;

  /**
   * `true`: the REST validate routes verify JWTs here, against the keys and revocation state
   * auth-core streams (auth-core still judges PATs and anything the gateway cannot vouch for).
   * `false`: every validation is a NATS request to auth-core, as in SPEC §1's plain mapping.
   */
  @Transform(toBoolean)
  @IsBoolean({ message: 'LOCAL_JWT_VALIDATION must be true or false' })
  LOCAL_JWT_VALIDATION: boolean = true;
}

export type GatewayConfig = Readonly<GatewayEnvDto>;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return Object.freeze(loadEnv(GatewayEnvDto, env));
}
