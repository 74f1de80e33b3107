import { accessSync, constants, statSync } from 'node:fs';
import { IsOptional, IsString, Matches, MinLength, ValidateIf } from 'class-validator';
import { EnvCheck } from '@portcullis/contracts';

const AUTH_VARS = ['NATS_USER', 'NATS_TOKEN', 'NATS_CREDS'] as const;

/** Validates both halves of a pair (user/password, cert/key) as soon as either is set. */
const PAIRS: Record<string, string> = {
  NATS_USER: 'NATS_PASSWORD',
  NATS_PASSWORD: 'NATS_USER',
  NATS_TLS_CERT: 'NATS_TLS_KEY',
  NATS_TLS_KEY: 'NATS_TLS_CERT',
};
const pairSet = (name: string) => (o: object) =>
  (o as Record<string, unknown>)[name] !== undefined || (o as Record<string, unknown>)[PAIRS[name]] !== undefined;

/** Fails when this variable is set together with any of `others`: the server would see two identities. */
function NotWith(others: readonly string[]) {
  return (target: object, property: string) =>
    EnvCheck('notWith', (value, args) =>
      value === undefined ||
      others.every((o) => o === property || (args.object as Record<string, unknown>)[o] === undefined)
        ? null
        : `${property} cannot be combined with ${others.filter((o) => o !== property).join(' or ')}: pick one way to authenticate to NATS`,
    )(target, property);
}

/**
 * A mounted secret that is missing or unreadable is a deployment mistake: report it at start, with
 * the variable's name, rather than as an obscure NATS connection error later.
 */
function ReadableFile() {
  return (target: object, property: string) =>
    EnvCheck('readableFile', (value) => {
      if (value === undefined && PAIRS[property]) return `${property} is required together with ${PAIRS[property]}`;
      try {
        if (typeof value === 'string') {
          accessSync(value, constants.R_OK);
          if (statSync(value).isFile()) return null;
        }
      } catch {
        // refused below
      }
      return `${property} must be the path of a readable file (got ${JSON.stringify(value)})`;
    })(target, property);
}

const NATS_URL_SHAPE = /^(nats|tls):\/\/[^,]+(,(nats|tls):\/\/[^,]+)*$/;

/**
 * What is wrong with a NATS_URL, or null. nats.js parses each server only as it connects, and one
 * it cannot parse (a port out of range, no host) ended the app as a bare "TypeError: Invalid URL".
 * An entry is never repeated: it may carry a user and password.
 */
export function natsUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !NATS_URL_SHAPE.test(value))
    return 'NATS_URL must be nats://host:port (comma-separated for a cluster)';
  const entries = value.split(',');
  for (const [i, entry] of entries.entries()) {
    let host = '';
    try {
      host = new URL(entry).hostname;
    } catch {
      // left empty: refused below
    }
    if (!host) {
      const which = entries.length > 1 ? ` (server ${i + 1})` : '';
      return `NATS_URL is not a URL${which}: it needs a host and a port of 1-65535, nats://host:port`;
    }
  }
  return null;
}

/** NATS_URL of every app: one or more nats:// or tls:// servers, each a URL nats.js can connect to. */
export const NatsUrlList = () => EnvCheck('natsUrlList', natsUrlProblem);

/**
 * How an app authenticates to NATS and secures the link. Both apps' environment DTOs extend this,
 * so every NATS connection of the system is configured the same way (see deploy/README.md).
 * Secrets are given as values (NATS_PASSWORD, NATS_TOKEN) or, preferably, as mounted files.
 */
export class NatsEnvDto {
  /**
   * Put in front of every subject (libs/contracts reads it raw): plain subject tokens only. A `*` or
   * `>` would make each subscription a wildcard over every deployment's subjects, and a space or an
   * empty token ends the app at its first subscription as an illegal subject.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, {
    message:
      'NATS_SUBJECT_PREFIX must be subject tokens of letters, digits, - and _, e.g. prod. (no wildcards or spaces)',
  })
  NATS_SUBJECT_PREFIX?: string;

  @ValidateIf(pairSet('NATS_USER'))
  @IsString({ message: 'NATS_USER is required together with NATS_PASSWORD' })
  @MinLength(1)
  @NotWith(AUTH_VARS)
  NATS_USER?: string;

  @ValidateIf(pairSet('NATS_PASSWORD'))
  @IsString({ message: 'NATS_PASSWORD is required together with NATS_USER' })
  @MinLength(1)
  NATS_PASSWORD?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @NotWith(AUTH_VARS)
  NATS_TOKEN?: string;

  /** A `.creds` file (user JWT + NKey seed) for decentralised auth; re-read at every reconnect. */
  @IsOptional()
  @ReadableFile()
  @NotWith(AUTH_VARS)
  NATS_CREDS?: string;

  /** CA bundle to verify the NATS servers with; setting it turns TLS on. */
  @IsOptional()
  @ReadableFile()
  NATS_TLS_CA?: string;

  /** Client certificate for mutual TLS; needs NATS_TLS_KEY. */
  @ValidateIf(pairSet('NATS_TLS_CERT'))
  @ReadableFile()
  NATS_TLS_CERT?: string;

  @ValidateIf(pairSet('NATS_TLS_KEY'))
  @ReadableFile()
  NATS_TLS_KEY?: string;
}
