import 'reflect-metadata';
import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AuthClientModule } from '@portcullis/auth-client';
import { ConfigError, loadEnv } from '@portcullis/contracts';
import { natsConnectionOptions } from '@portcullis/nats-options';
import { createPinoLogger, installGracefulShutdown, PinoNestLogger } from '@portcullis/observability';
import { ExampleEnvDto } from './example-env.dto';
import { HealthController, ReadinessState } from './health.controller';
import { WidgetsController } from './widgets.controller';

/** Everything a team adds to its own service is the AuthClientModule import and the guard. */
function exampleServiceModule(env: ExampleEnvDto): DynamicModule {
  @Module({})
  class ExampleServiceModule {}
  return {
    module: ExampleServiceModule,
    imports: [
      AuthClientModule.forRoot({
        natsUrl: env.NATS_URL,
        natsOptions: natsConnectionOptions(env, 'example-service'),
        mode: env.AUTH_MODE,
        stalenessBoundMs: env.AUTH_STALENESS_MS,
      }),
    ],
    controllers: [WidgetsController, HealthController],
    providers: [ReadinessState],
  };
}

async function bootstrap(): Promise<void> {
  let env: ExampleEnvDto;
  try {
    env = loadEnv(ExampleEnvDto);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const logger = createPinoLogger('example-service', env.LOG_LEVEL);
  const app = await NestFactory.create<NestFastifyApplication>(exampleServiceModule(env), new FastifyAdapter(), {
    logger: new PinoNestLogger(logger),
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  installGracefulShutdown({
    logger,
    onSignal: () => app.get(ReadinessState).stop(),
    close: () => app.close(),
    delayMs: env.SHUTDOWN_DELAY_MS,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  });
  await app.listen(env.PORT, '0.0.0.0');
}

bootstrap().catch((err: Error) => {
  console.error(`example-service failed to start: ${err.stack ?? err.message}`);
  process.exit(1);
});
