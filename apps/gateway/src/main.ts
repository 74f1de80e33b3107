import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  closeIdleConnectionsWhileClosing,
  createPinoLogger,
  installGracefulShutdown,
  instrumentHttp,
  PinoNestLogger,
  serviceVersion,
} from '@portcullis/observability';
import { randomUUID } from 'node:crypto';
import { acceptableRequestId, cacheValidationMetadata, MAX_PATH_PARAM_LENGTH } from '@portcullis/contracts';
import { collectDefaultMetrics } from 'prom-client';
import { AppModule } from './app.module';
import {
  authorizationFields,
  normalisedAuthorization,
  refuseDuplicateAuthorization,
} from './auth/authorization-header';
import { loadGatewayConfig } from './config/gateway-config';
import { documentErrorResponses } from './docs/error-responses';
import { jsonBodyParser } from './errors/json-body.parser';
import { foldBracketKeys } from './errors/query-brackets';
import { frameworkErrors } from './errors/framework-errors';
import { NATIVE_API, NO_STORE } from './core/cache-policy';
import { CoreClientService } from './core/core-client.service';
import { GatewayShutdownState } from './health/shutdown-state';
import { installInputRules } from './errors/input-rules.hook';

async function bootstrap(): Promise<void> {
  // Every payload and body is checked with class-validator; its per-call metadata scan is cached.
  cacheValidationMetadata();
  // A safe level until LOG_LEVEL itself has been validated: a bad value must be reported, not crash pino.
  let pinoLogger = createPinoLogger('gateway', 'info');
  let config;
  try {
    config = loadGatewayConfig();
  } catch (err) {
    pinoLogger.fatal((err as Error).message);
    console.error((err as Error).message);
    process.exit(1);
  }
  pinoLogger = createPinoLogger('gateway', config.LOG_LEVEL);
  collectDefaultMetrics({ prefix: 'portcullis_gateway_' });
  const trustProxy = config.TRUST_PROXY;
  const routerRefusals: { observe?: (req: FastifyRequest, reply: FastifyReply) => void } = {};
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    ...(trustProxy ? { trustProxy: trustProxy === 'true' ? true : trustProxy } : {}),
    // The router answers these before any hook: counted and access-logged once sent (see below).
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      reply.raw.once('finish', () => routerRefusals.observe?.(req, reply));
      frameworkErrors(error, req, reply);
    },
    // A request the router sees after closing began (read from a connection that was busy then) is
    // served while auth-core is still reachable (NATS drains only once the server has closed),
    // rather than given Fastify's own 503 body, which is not the envelope. Its reply still says
    // keep-alive; the connection is closed as soon as it falls idle (closeIdleConnectionsWhileClosing).
    return503OnClosing: false,
    // Fastify's default (100) is below the ids the DTOs allow (128-character client ids, 256 for a
    // PAT's value or name), which then could be created but never addressed. The router compares
    // the decoded value, so the DTOs' own bound is the right one; longer still answers 400.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // A caller-supplied request id is kept (and passed on to auth-core) so logs can be joined.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      acceptableRequestId(req.headers['x-request-id']) ?? randomUUID(),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(pinoLogger),
    // Nest's own JSON and urlencoded parsers; the limit answers 413 before parsing.
    rawBody: false,
    bodyParser: true,
  });
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: config.BODY_LIMIT_BYTES });
  const fastify = app.getHttpAdapter().getInstance();
  app.useBodyParser('application/json', { bodyLimit: config.BODY_LIMIT_BYTES }, jsonBodyParser(fastify));
  // Set before the reply is sent (an onResponse hook is too late for headers). No request context
  // here: the error filters and the debug access log below, the only code that logs during a
  // request, name the id themselves.
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('X-Request-Id', req.id);
    if (req.url.startsWith(NATIVE_API)) reply.headers(NO_STORE);
    if (req.url.includes('?')) req.query = foldBracketKeys(req.query as Parameters<typeof foldBracketKeys>[0]);
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      if (authorizationFields(req.raw.rawHeaders) > 1) return void refuseDuplicateAuthorization(req, reply);
      req.headers.authorization = normalisedAuthorization(authorization);
    }
    done();
  });
  closeIdleConnectionsWhileClosing(fastify);
  // At debug, one line per request with its id. The route pattern, never the URL: a path may hold a
  // PAT being deleted. Not installed at all above debug, so it costs the hot paths nothing.
  const accessLog = pinoLogger.isLevelEnabled('debug')
    ? (req: FastifyRequest, reply: FastifyReply) =>
        pinoLogger.debug(
          {
            requestId: req.id,
            method: req.method,
            route: req.routeOptions?.url ?? 'unmatched',
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime * 10) / 10,
          },
          'request',
        )
    : undefined;
  routerRefusals.observe = instrumentHttp(fastify, 'portcullis_gateway_', accessLog);
  installInputRules(app);

  const doc = new DocumentBuilder()
    .setTitle('Portcullis')
    .setDescription('Authentication and token service of the cluster')
    .setVersion(serviceVersion())
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, documentErrorResponses(SwaggerModule.createDocument(app, doc)), {
    jsonDocumentUrl: 'docs-json',
  });

  installGracefulShutdown({
    logger: pinoLogger,
    onSignal: () => app.get(GatewayShutdownState).beginShutdown(),
    close: () => app.close(),
    delayMs: config.SHUTDOWN_DELAY_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  // Listening need not wait for NATS (readiness says whether it is there); a server that hangs would
  // otherwise hold the start for nats.js' whole connect timeout.
  await app
    .get(CoreClientService)
    .connectWithin(config.REQUEST_TIMEOUT_MS)
    .catch(() => undefined);
  await app.listen(config.PORT, '0.0.0.0');
  pinoLogger.info(`gateway listening on :${config.PORT}`);
}

bootstrap().catch((err: Error) => {
  // A JSON line like every other (log pipelines parse nothing else), then the stack for a human.
  createPinoLogger('gateway', 'info').fatal({ err }, `gateway failed to start: ${err.message}`);
  console.error(`gateway failed to start: ${err.stack ?? err.message}`);
  process.exit(1);
});
