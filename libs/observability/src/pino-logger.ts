import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { currentRequestContext } from './request-context';

/**
 * Structured JSON logs (pino) behind Nest's LoggerService. Known secret-bearing fields are
 * redacted wherever they appear, as a second line of defence behind never logging them.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'refresh_token',
  '*.refresh_token',
  'access_token',
  '*.access_token',
  'client_secret',
  '*.client_secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'req.headers.authorization',
];

export function createPinoLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { app: name, pid: process.pid },
    // The request id (and NATS subject) of whatever is being handled, so one id follows a call across apps.
    mixin: () => ({ ...currentRequestContext() }),
  });
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object') this.logger[level]({ context, ...(message as object) });
    else this.logger[level]({ context }, String(message));
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    const [stack] = rest;
    if (typeof stack === 'string' && stack.includes('\n'))
      this.logger.error({ context: rest[1], stack }, String(message));
    else this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
