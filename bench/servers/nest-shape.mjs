/**
 * The least work the chosen stack does per client_credentials request, with no Portcullis code:
 * the gateway's frameworks (Nest on the Fastify adapter, a form body parsed by Nest's own parser,
 * Nest's ValidationPipe — class-transformer + class-validator — on a four-field DTO) and
 * auth-core's (a Nest NATS microservice whose handler checks its payload with class-validator),
 * joined by one nats.js request per HTTP request. Both sides publish at the end of the event-loop
 * turn, as the apps do (libs/nats-options atTurnEnd), so the shape gets the same write batching.
 * Nothing else: no client lookup or secret check, no metrics or logging. The core answers a
 * constant token reply, or, given a database, signs each token and records it group-committed like
 * servers/nats-record.mjs before answering (the chosen stack's least work of SPEC's shape).
 *
 * argv: mode (`gateway` PORT SUBJECT | `core` SUBJECT [DATABASE_URL TOKEN_TABLE AUDIT_TABLE]). Env: NATS_URL. Each side speaks the apps'
 * wire format (`{client_id, client_secret}` in, a token reply out), so either can stand in for the
 * real app on the other side: the bench uses that to split the real phase's cost between the two.
 * Decorators are applied by hand: this file runs as plain ESM, without a TypeScript build.
 */
import 'reflect-metadata';
import { Body, Controller, Headers, HttpCode, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, ServerNats } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { connect } from '@nats-io/transport-node';
import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, Length, MaxLength, validateSync } from 'class-validator';
import { atTurnEnd, es256Signer, groupCommitRecorder, issueRecorded, requestMux } from './shape-kit.mjs';

const [mode, ...args] = process.argv.slice(2);
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const STRICT = { whitelist: true, forbidNonWhitelisted: true };

function dto(fields) {
  class Dto {}
  for (const [name, required, max] of fields) {
    if (!required) IsOptional()(Dto.prototype, name);
    IsString()(Dto.prototype, name);
    (required ? Length(1, max) : MaxLength(max))(Dto.prototype, name);
  }
  return Dto;
}

/** Applies method and parameter decorators the way TypeScript's emitted code does. */
function decorate(cls, method, methodDecorators, paramDecorators, paramTypes) {
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, method);
  for (const d of methodDecorators) d(cls.prototype, method, descriptor);
  paramDecorators.forEach((d, i) => d(cls.prototype, method, i));
  Reflect.defineMetadata('design:paramtypes', paramTypes, cls.prototype, method);
}

if (mode === 'gateway') {
  const [port, subject] = args;
  const nc = await connect({ servers, name: 'bench-nest-shape-gateway', noAsyncTraces: true });
  const request = requestMux(nc);
  const TokenForm = dto([
    ['grant_type', true, 128],
    ['client_id', false, 128],
    ['client_secret', false, 512],
    ['scope', false, 1024],
  ]);
  class TokenController {
    async token(body, authorization) {
      // Basic credentials, decoded as the gateway's readClientAuth does, sent as auth-core takes them.
      const basic = Buffer.from(/^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '')?.[1] ?? '', 'base64').toString();
      const colon = basic.indexOf(':');
      const data = JSON.stringify({
        client_id: decodeURIComponent(basic.slice(0, colon)),
        client_secret: decodeURIComponent(basic.slice(colon + 1)),
      });
      const msg = await new Promise((resolve, reject) => atTurnEnd(() => request(subject, data).then(resolve, reject)));
      return msg.json();
    }
  }
  Controller('oauth')(TokenController);
  decorate(
    TokenController,
    'token',
    [Post('token'), HttpCode(200)],
    [Body(), Headers('authorization')],
    [TokenForm, String],
  );
  class GatewayModule {}
  Module({ controllers: [TokenController] })(GatewayModule);
  const app = await NestFactory.create(GatewayModule, new FastifyAdapter(), { logger: false, bodyParser: true });
  app.useBodyParser('application/x-www-form-urlencoded');
  app.useGlobalPipes(new ValidationPipe({ ...STRICT, transform: true }));
  await app.listen(Number(port), '127.0.0.1');
  process.on('SIGTERM', async () => {
    await app.close();
    await nc.drain();
    process.exit(0);
  });
} else if (mode === 'core') {
  // With a database: sign and record each token as servers/nats-record.mjs does, answering once
  // committed (the chosen stack's least work of SPEC's shape); without: a constant answer.
  const [subject, dbUrl, tokenTable, auditTable] = args;
  const recorder = dbUrl ? groupCommitRecorder(dbUrl, tokenTable, auditTable, 3) : null;
  const signJwt = recorder ? es256Signer() : null;
  const Request = dto([
    ['client_id', true, 128],
    ['client_secret', true, 512],
    ['scope', false, 1024],
  ]);
  const REPLY = {
    access_token: 'x'.repeat(560),
    token_type: 'Bearer',
    expires_in: 900,
    roles: ['service'],
  };
  class CoreController {
    handle(payload) {
      const errors = validateSync(plainToInstance(Request, payload), STRICT);
      if (errors.length) throw new Error('bad request');
      if (!recorder) return REPLY;
      return issueRecorded(recorder.record, signJwt).then((reply) => ({ ...reply, roles: ['service'] }));
    }
  }
  Controller()(CoreController);
  decorate(CoreController, 'handle', [MessagePattern(subject)], [Payload()], [Object]);
  class CoreModule {}
  Module({ controllers: [CoreController] })(CoreModule);
  /** Nest's NATS server, replying at the end of the turn as auth-core's DrainingNatsServer does. */
  class TurnEndNats extends ServerNats {
    getPublisher(msg, id, ctx) {
      const publish = super.getPublisher(msg, id, ctx);
      return (response) => atTurnEnd(() => publish(response));
    }
  }
  // Plain JSON on the wire, as auth-core speaks (apps/auth-core/src/nats/plain-json.codec.ts).
  let counter = 0;
  const deserializer = {
    deserialize: (msg, options) => ({
      pattern: options?.channel,
      data: msg.data.length ? msg.json() : {},
      id: msg.reply ? `r${++counter}` : undefined,
    }),
  };
  const serializer = {
    serialize: (packet) =>
      packet.err !== undefined
        ? { data: JSON.stringify({ error: packet.err }) }
        : { data: JSON.stringify(packet.response) },
  };
  const app = await NestFactory.createMicroservice(CoreModule, {
    strategy: new TurnEndNats({ servers: [servers], queue: 'bench-nest-shape', serializer, deserializer }),
    logger: false,
  });
  await app.listen();
  process.on('SIGTERM', async () => {
    await app.close();
    await recorder?.pool.end();
    process.exit(0);
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write('ready\n');
