import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { register } from 'prom-client';
import { KeyRingService } from '../keys/key-ring.service';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { RevocationCacheService } from '../tokens/revocation-cache.service';
import { DATABASE_PING_TIMEOUT_MS } from './readiness-deadline';
import { ShutdownState } from './shutdown-state';
import { ValidateReadiness } from '../tokens/validate-readiness';

/** auth-core's own small HTTP port, for Kubernetes probes and Prometheus. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    private readonly nats: NatsConnectionService,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly shutdown: ShutdownState,
    private readonly validate: ValidateReadiness,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  // auth-core publishes no OpenAPI document: terminus' default would load all of @nestjs/swagger
  // (and its YAML parser) for nothing: about 8 MB of a replica's idle RSS on Node 24.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: DATABASE_PING_TIMEOUT_MS }),
      () => this.flag('nats', this.nats.isConnected()),
      () => this.flag('keys', this.keys.isReady() && this.revocations.isLoaded()),
      () => this.flag('validate', this.validate.serving),
      () => this.flag('accepting', !this.shutdown.stopping),
    ]);
  }

  @Get('metrics')
  @Header('Content-Type', register.contentType)
  metrics() {
    return register.metrics();
  }

  private flag(key: string, ok: boolean) {
    const i = this.indicator.check(key);
    return ok ? i.up() : i.down();
  }
}
