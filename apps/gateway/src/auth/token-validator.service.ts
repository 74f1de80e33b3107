import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LocalValidator } from '@portcullis/auth-client/local-validator';
import { PAT_PREFIX, SUBJECTS, ValidateTokenReply, ValidateTokenRequestDto } from '@portcullis/contracts';
import { Counter, register } from 'prom-client';
import { VERIFY_FAILURE_MESSAGES } from '@portcullis/jwt';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { CoreClientService } from '../core/core-client.service';

/** auth-core beats every second: three missed beats and the local state is no longer vouched for. */
const STALENESS_BOUND_MS = 3_000;
const RETRY_START_MS = 1_000;
const UNKNOWN_KID = VERIFY_FAILURE_MESSAGES.UNKNOWN_KID;

const validations =
  (register.getSingleMetric('portcullis_gateway_token_validations_total') as Counter<'path'>) ??
  new Counter({
    name: 'portcullis_gateway_token_validations_total',
    help: 'Token validations answered by the gateway, by path: local (JWT verified here) or auth-core',
    labelNames: ['path'],
  });

/**
 * The REST validate routes verify JWTs here, with the very verifier and policy of auth-core
 * (libs/jwt through the SDK's LocalValidator), against the JWKS and the revocation/disable state
 * that auth-core streams — so a validation costs no NATS round trip. auth-core still decides
 * whenever that state cannot be vouched for (not synced yet, reconnecting, auth-core silent for
 * three heartbeats), for a token whose key this gateway does not know, and for every PAT, whose
 * record lives in PostgreSQL. Revocations and disables reach this connection ahead of
 * auth-core's answer to the request that made them (see LocalValidator.start), so a revocation
 * answered through this gateway is never followed by an acceptance here.
 */
@Injectable()
export class TokenValidatorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenValidator');
  private local?: LocalValidator;
  private starting?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly core: CoreClientService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.LOCAL_JWT_VALIDATION)
      return void this.logger.log('local JWT validation is off: auth-core answers');
    // auth-core may come up after the gateway: until the local state is in, auth-core answers.
    this.starting = this.startLocal();
  }

  private async startLocal(): Promise<void> {
    while (!this.stopped) {
      const local = new LocalValidator(await this.connection(), {
        timeoutMs: this.config.REQUEST_TIMEOUT_MS,
        // Issuer, audience and clock skew: what auth-core announces, so both judge alike.
        stalenessBoundMs: STALENESS_BOUND_MS,
      });
      try {
        await local.start();
        if (this.stopped) return void (await local.close());
        this.local = local;
        this.logger.log('local JWT validation is live');
        return;
      } catch (err) {
        await local.close().catch(() => undefined);
        this.logger.debug(`local validation not ready yet: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, RETRY_START_MS));
      }
    }
  }

  private async connection() {
    for (;;) {
      try {
        return await this.core.connect();
      } catch (err) {
        if (this.stopped) throw err;
        await new Promise((r) => setTimeout(r, RETRY_START_MS));
      }
    }
  }

  async validate(req: ValidateTokenRequestDto, requestId?: string): Promise<ValidateTokenReply> {
    if (this.local && !req.token.startsWith(PAT_PREFIX)) {
      const reply = await this.local.validate(req.token, req);
      // An unknown kid may be a key rotated in a moment ago that this gateway has not loaded yet
      // (its JWKS refetch is rate-limited): auth-core, which knows every key, decides those.
      if (reply.valid || (reply.error.code !== 'UNAVAILABLE' && reply.error.message !== UNKNOWN_KID)) {
        validations.inc({ path: 'local' });
        return reply;
      }
    }
    validations.inc({ path: 'auth-core' });
    return this.core.request<ValidateTokenReply>(SUBJECTS.TOKEN_VALIDATE, req, requestId);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await this.local?.close().catch(() => undefined);
  }
}
