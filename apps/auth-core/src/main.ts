import './runtime/threadpool';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CustomStrategy } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AUTH_CORE_QUEUE, cacheValidationMetadata } from '@portcullis/contracts';
import { describeNatsAuth, natsConnectionOptions, natsServersForLog } from '@portcullis/nats-options';
import {
  closeIdleConnectionsWhileClosing,
  createPinoLogger,
  installGracefulShutdown,
  instrumentHttp,
  PinoNestLogger,
} from '@portcullis/observability';
import { collectDefaultMetrics } from 'prom-client';
import { AppModule } from './app.module';
import { ConfigError, loadAuthCoreConfig } from './config/config';
import { awaitMigrations } from './database/await-migrations';
import { runMigrations } from './database/migrate';
import { ShutdownState } from './health/shutdown-state';
import { DrainingNatsServer } from './nats/draining-nats.server';
import { PlainJsonDeserializer, PlainJsonSerializer } from './nats/plain-json.codec';
import { RpcErrorFilter } from './nats/rpc-error.filter';

async function bootstrap(): Promise<void> {
  // Every payload and body is checked with class-validator; its per-call metadata scan is cached.
  cacheValidationMetadata();
  // A safe level until LOG_LEVEL itself has been validated: a bad value must be reported, not crash pino.
  let pinoLogger = createPinoLogger('auth-core', 'info');
  let config;
  try {
    config = loadAuthCoreConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      pinoLogger.fatal(err.message);
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  pinoLogger = createPinoLogger('auth-core', config.LOG_LEVEL);
  const logger = new PinoNestLogger(pinoLogger);
  if (config.masterKeyIsDevelopmentKey) {
    logger.warn(
      'MASTER_KEY is not set: using a development key from .data/master.key — never do this in production',
      'Config',
    );
  }
  if (config.MIGRATE_ON_START) {
    const applied = await runMigrations(config.DATABASE_URL);
    if (applied.length) logger.log(`applied migrations: ${applied.join(', ')}`, 'Migrations');
  } else {
    await awaitMigrations(config.DATABASE_URL, config.HEALTH_PORT, pinoLogger);
  }
  collectDefaultMetrics({ prefix: 'portcullis_auth_core_' });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), new FastifyAdapter(), {
    logger,
    bufferLogs: false,
  });
  // Before connectMicroservice: inheritAppConfig copies the global filters at connect time.
  app.useGlobalFilters(new RpcErrorFilter());
  const natsOptions = natsConnectionOptions(config, 'auth-core');
  app.connectMicroservice<CustomStrategy>(
    {
      // Nest's NATS transport, plus draining on shutdown, per-subject metrics and request ids.
      strategy: new DrainingNatsServer({
        ...natsOptions,
        queue: AUTH_CORE_QUEUE,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        serializer: new PlainJsonSerializer(),
        deserializer: new PlainJsonDeserializer(),
        // Upper bound on waiting for accepted requests to be answered at shutdown.
        gracePeriod: Math.min(10000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2)),
      }),
    },
    { inheritAppConfig: true },
  );
  instrumentHttp(app.getHttpAdapter().getInstance(), 'portcullis_auth_core_');
  // A probe or metrics scrape in flight at SIGTERM must not hold the health server open.
  closeIdleConnectionsWhileClosing(app.getHttpAdapter().getInstance());
  installGracefulShutdown({
    logger: pinoLogger,
    onSignal: () => app.get(ShutdownState).beginShutdown(),
    close: () => app.close(),
    delayMs: config.SHUTDOWN_DELAY_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.HEALTH_PORT, '0.0.0.0');
  logger.log(
    `auth-core ready: NATS ${natsServersForLog(config.NATS_URL)} (${describeNatsAuth(natsOptions)}), health on :${config.HEALTH_PORT}`,
    'Bootstrap',
  );
}

bootstrap().catch((err: Error) => {
  // A JSON line like every other (log pipelines parse nothing else), then the stack for a human.
  createPinoLogger('auth-core', 'info').fatal({ err }, `auth-core failed to start: ${err.message}`);
  console.error(`auth-core failed to start: ${err.stack ?? err.message}`);
  process.exit(1);
});
