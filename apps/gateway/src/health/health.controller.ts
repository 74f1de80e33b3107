import { Controller, Get, Header, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { StatusReply, SUBJECTS } from '@portcullis/contracts';
import { register } from 'prom-client';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { CoreClientService } from '../core/core-client.service';
import { LivenessDto } from './liveness-response.dto';
import { READINESS_DEADLINE_MS } from './readiness-deadline';
import { GatewayShutdownState } from './shutdown-state';

// In the OpenAPI document too: SPEC §4 lists them, and a client generated from it should reach them.
@ApiTags('ops')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly core: CoreClientService,
    private readonly shutdown: GatewayShutdownState,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  /**
   * Ready = NATS connected and some auth-core replica answering with its state loaded. The
   * database is reported but does not make the gateway unready: without it JWT validation still
   * works (SPEC §3) and must stay reachable over REST, while issuance, PATs and admin calls answer
   * 503 on their own. auth-core's own readiness does include its database.
   */
  @Get('health/ready')
  @ApiOperation({ summary: 'Readiness: NATS connected and an auth-core replica ready (503 otherwise)' })
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    try {
      return await this.checks();
    } catch (err) {
      // Terminus reports a failed check as an exception carrying its report; the native API's
      // error envelope would replace that with "Service Unavailable Exception", hiding from the
      // operator which dependency is down. The 503 keeps the report, as the 200 and auth-core's do.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      void reply.status(503);
      return err.getResponse();
    }
  }

  private checks() {
    // Without a NATS link the answer is known at once: a probe must not wait out a request timeout
    // (longer than the kubelet's). The attempt to connect goes on, so readiness comes back unaided.
    const status: Promise<{ s: StatusReply | null; reason: string }> = this.core.isConnected()
      ? this.statusWithin(Math.min(READINESS_DEADLINE_MS, this.config.REQUEST_TIMEOUT_MS))
      : (void this.core.connect().catch(() => undefined),
        Promise.resolve({ s: null, reason: `NATS is ${this.core.natsState()}` }));
    return this.health.check([
      async () => {
        const i = this.indicator.check('nats');
        return this.core.isConnected() ? i.up() : i.down({ state: this.core.natsState() });
      },
      async () => {
        const i = this.indicator.check('auth_core');
        const { s, reason } = await status;
        if (!s) return i.down({ reason });
        return s.auth_provider_initialized ? i.up() : i.down({ reason: 'not initialised' });
      },
      async () => {
        const i = this.indicator.check('database');
        const { s } = await status;
        return i.up({ state: !s ? 'unknown' : s.auth_db_initialized ? 'up' : 'down' });
      },
      async () => {
        const i = this.indicator.check('accepting');
        return this.shutdown.stopping ? i.down() : i.up();
      },
    ]);
  }

  /** auth-core's status, or why there is none; the request itself may run on to its own timeout. */
  private async statusWithin(ms: number): Promise<{ s: StatusReply | null; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ s: null; reason: string }>((resolve) => {
      timer = setTimeout(() => resolve({ s: null, reason: `auth-core did not answer within ${ms} ms` }), ms);
    });
    try {
      return await Promise.race([
        this.core.request<StatusReply>(SUBJECTS.STATUS, {}).then(
          (s) => ({ s, reason: '' }),
          (err: Error) => ({ s: null, reason: err.message }),
        ),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @Header('Content-Type', register.contentType)
  metrics() {
    return register.metrics();
  }
}
