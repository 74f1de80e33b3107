import { readFileSync } from 'node:fs';
import { credsAuthenticator, NodeConnectionOptions } from '@nats-io/transport-node';

/** The settings the builder reads: NATS_URL plus the fields of NatsEnvDto. */
export interface NatsSettings {
  NATS_URL: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_CREDS?: string;
  NATS_TLS_CA?: string;
  NATS_TLS_CERT?: string;
  NATS_TLS_KEY?: string;
}

export type NatsConnectionSettings = NodeConnectionOptions & { servers: string[] };

const SETTINGS: ReadonlyArray<keyof NatsSettings> = [
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_CREDS',
  'NATS_TLS_CA',
  'NATS_TLS_CERT',
  'NATS_TLS_KEY',
];

/** Just the NATS settings of an app's config, as plain data (to hand to a worker thread). */
export function natsSettings(config: NatsSettings): NatsSettings {
  return Object.fromEntries(SETTINGS.map((k) => [k, config[k]])) as unknown as NatsSettings;
}

/**
 * Connection options for every NATS connection of an app, so the Nest transport and the apps'
 * own connections can never disagree on servers, identity or TLS. Connection-behaviour options
 * (reconnect, timeouts) stay with each caller.
 */
export function natsConnectionOptions(settings: NatsSettings, name: string): NatsConnectionSettings {
  const servers = settings.NATS_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // noAsyncTraces: otherwise every request captures a stack trace up front in case it times out
  // (about 5 % of the gateway's CPU per request); our errors name the subject anyway.
  const opts: NatsConnectionSettings = { servers, name, noAsyncTraces: true };
  if (settings.NATS_USER !== undefined) {
    opts.user = settings.NATS_USER;
    opts.pass = settings.NATS_PASSWORD;
  }
  if (settings.NATS_TOKEN !== undefined) opts.token = settings.NATS_TOKEN;
  if (settings.NATS_CREDS !== undefined) {
    const file = settings.NATS_CREDS;
    // Read at every (re)connect, not once: a rotated Secret is picked up without a restart.
    opts.authenticator = credsAuthenticator(() => readFileSync(file));
  }
  const tlsFiles = {
    ...(settings.NATS_TLS_CA !== undefined && { caFile: settings.NATS_TLS_CA }),
    ...(settings.NATS_TLS_CERT !== undefined && { certFile: settings.NATS_TLS_CERT }),
    ...(settings.NATS_TLS_KEY !== undefined && { keyFile: settings.NATS_TLS_KEY }),
  };
  // tls:// URLs require TLS even with no files given (system CAs verify the server).
  if (Object.keys(tlsFiles).length > 0 || servers.some((s) => s.startsWith('tls://'))) opts.tls = tlsFiles;
  return opts;
}

/**
 * NATS_URL as a log may show it: nats.js takes a user and password (or a token) from a server's
 * URL, so whatever stands before `@` is masked.
 */
export function natsServersForLog(natsUrl: string): string {
  return natsUrl.replace(/:\/\/[^@/,]*@/g, '://***@');
}

/** What a startup log may say about the NATS link: the mechanism, never a secret or a path's content. */
export function describeNatsAuth(opts: NatsConnectionSettings): string {
  const auth = opts.authenticator ? 'creds' : opts.user !== undefined ? 'user/password' : opts.token ? 'token' : 'none';
  const tls = opts.tls ? (opts.tls.certFile ? 'mutual TLS' : 'TLS') : 'no TLS';
  return `auth=${auth}, ${tls}`;
}
