import { ArgumentsHost, Logger } from '@nestjs/common';
import { PinoNestLogger } from '@portcullis/observability';
import { PortcullisError } from '@portcullis/contracts';
import pino from 'pino';
import { Writable } from 'node:stream';
import { OAuthExceptionFilter } from '../oauth/oauth-exception.filter';
import { ApiExceptionFilter } from './api-exception.filter';

/** The gateway's log lines, as the app writes them (pino JSON behind Nest's Logger). */
function captureLogs(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  Logger.overrideLogger(new PinoNestLogger(pino({ base: { app: 'gateway' } }, sink)));
  return lines;
}

function host(url: string, id: string) {
  const reply = {
    statusCode: 0,
    body: undefined as unknown,
    header: jest.fn().mockReturnThis(),
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    send(body: unknown) {
      this.body = body;
      return this;
    },
  };
  const req = { id, url, headers: {} };
  const h = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }),
  } as unknown as ArgumentsHost;
  return { h, reply };
}

describe('unexpected errors in the gateway filters', () => {
  const lines = captureLogs();
  const settle = () => new Promise((r) => setImmediate(r));
  beforeEach(() => (lines.length = 0));

  it('the native API logs the error with the request id and its stack, and answers INTERNAL without it', async () => {
    const { h, reply } = host('/api/v1/users', 'req-native-1');
    new ApiExceptionFilter().catch(new Error('database exploded'), h);
    await settle();
    expect(reply.statusCode).toBe(500);
    expect(JSON.stringify(reply.body)).not.toContain('exploded');
    const line = lines.find((l) => l.requestId === 'req-native-1');
    expect(line).toMatchObject({ level: 50, context: 'ApiExceptionFilter', msg: 'database exploded' });
    expect(String(line!.stack)).toContain('unexpected-error.spec');
  });

  it('/oauth/* logs it the same way and answers server_error', async () => {
    const { h, reply } = host('/oauth/token', 'req-oauth-1');
    new ApiExceptionFilter().catch(new TypeError('boom'), h);
    new OAuthExceptionFilter().catch('not even an Error', host('/oauth/token', 'req-oauth-2').h);
    await settle();
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toMatchObject({ error: 'server_error' });
    expect(lines.find((l) => l.requestId === 'req-oauth-1')).toMatchObject({
      context: 'OAuthExceptionFilter',
      msg: 'boom',
    });
    expect(lines.find((l) => l.requestId === 'req-oauth-2')).toMatchObject({ msg: 'not even an Error' });
  });

  it('expected errors are answered, not logged', async () => {
    new ApiExceptionFilter().catch(new PortcullisError('NOT_FOUND', 'No such user'), host('/api/v1/users/x', 'r3').h);
    await settle();
    expect(lines).toEqual([]);
  });
});
