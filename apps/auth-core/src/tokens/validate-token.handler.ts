import { Controller, Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Msg } from '@nats-io/transport-node';
import {
  AUTH_CORE_QUEUE,
  PAT_PREFIX,
  requestIdOf,
  SUBJECTS,
  ValidateTokenReply,
  ValidateTokenRequestDto,
} from '@portcullis/contracts';
import { runWithRequestContext } from '@portcullis/observability';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { countValidateRequest } from '../metrics/metrics';
import { RevocationCacheService } from './revocation-cache.service';
import { TokenValidationService } from './token-validation.service';
import { ValidateReadiness } from './validate-readiness';
import { ValidateResponder } from './validate-responder';
import { ValidateWorkers } from './validate-workers.service';

/**
 * `auth.v1.token.validate`: never throws; a malformed request is answered, not raised.
 *
 * The hottest subject is served by its own NATS subscription (same subject, same `auth-core`
 * queue group, same plain-JSON wire format and metrics) instead of Nest's microservice dispatch,
 * which cost more per request than validating a remembered token (ValidateResponder). With
 * VERIFY_WORKERS it is served by that many worker threads instead, each with its own connection
 * (ValidateWorkers); a PAT they receive is judged here, where its record can be read.
 * Like every other subscription it starts once the replica's state is loaded and drains at
 * shutdown, answering whatever NATS routed here before it stops.
 */
@Controller()
export class ValidateTokenHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ValidateToken');
  private readonly responder = new ValidateResponder(
    {
      isRemembered: (token) => this.validation.isRemembered(token),
      judge: (req, msg) => this.judge(req, msg),
    },
    countValidateRequest,
    (message) => this.logger.error(message),
  );
  private closed = false;

  constructor(
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly validation: TokenValidationService,
    private readonly revocations: RevocationCacheService,
    private readonly nats: NatsConnectionService,
    private readonly workers: ValidateWorkers,
    private readonly readiness: ValidateReadiness,
  ) {}

  /** Answers one request (also the unit under test): a reply, or a promise of one for a PAT. */
  handle(payload: unknown): ValidateTokenReply | Promise<ValidateTokenReply> {
    return this.responder.handle(payload);
  }

  /** A PAT's lookup may log (database trouble): it runs in the request's log context. A JWT logs nothing. */
  private judge(req: ValidateTokenRequestDto, msg?: Msg): ValidateTokenReply | Promise<ValidateTokenReply> {
    if (!req.token.startsWith(PAT_PREFIX)) return this.validation.validateNow(req.token, req, req.clientIp);
    const requestId = requestIdOf(msg);
    return runWithRequestContext({ requestId, subject: SUBJECTS.TOKEN_VALIDATE }, () =>
      this.validation.validate(req.token, req, req.clientIp),
    );
  }

  /**
   * StartupService loads keys and then revocations in its own bootstrap hook; no request may be
   * judged before both are in memory, so the subscription waits for them. Nest awaits this before
   * the health port listens: a replica is never seen unready only because its workers are starting.
   */
  onApplicationBootstrap(): Promise<void> {
    return this.subscribeWhenLoaded();
  }

  private async subscribeWhenLoaded(): Promise<void> {
    if (!(await this.revocations.whenLoaded(() => this.closed))) return;
    if (this.config.VERIFY_WORKERS > 0) {
      await this.workers.start(this.config.VERIFY_WORKERS);
    } else {
      const nc = await this.nats.connection();
      if (this.closed) return;
      this.responder.subscribe(nc, SUBJECTS.TOKEN_VALIDATE, AUTH_CORE_QUEUE);
      await nc.flush();
    }
    this.readiness.serving = !this.closed;
  }

  /** Drains like the other subscriptions: NATS stops routing here, what it already routed is answered. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.readiness.serving = false;
    if (this.config.VERIFY_WORKERS > 0) return this.workers.drain();
    this.logger.log(`draining ${SUBJECTS.TOKEN_VALIDATE}: ${this.responder.inFlight} request(s) in flight`);
    await this.responder.drain();
  }
}
