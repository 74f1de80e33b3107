import { accessSync, constants, statSync } from 'node:fs';
import { IsOptional, IsString, MinLength, registerDecorator, ValidateIf, ValidationArguments } from 'class-validator';

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
    registerDecorator({
      name: 'notWith',
      target: target.constructor,
      propertyName: property,
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          value === undefined ||
          others.every((o) => o === property || (args.object as Record<string, unknown>)[o] === undefined),
        defaultMessage: () =>
          `${property} cannot be combined with ${others.filter((o) => o !== property).join(' or ')}: pick one way to authenticate to NATS`,
      },
    });
}

/**
 * A mounted secret that is missing or unreadable is a deployment mistake: report it at start, with
 * the variable's name, rather than as an obscure NATS connection error later.
 */
function ReadableFile() {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'readableFile',
      target: target.constructor,
      propertyName: property,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            accessSync(value, constants.R_OK);
            return statSync(value).isFile();
          } catch {
            return false;
          }
        },
        defaultMessage: (args?: ValidationArguments) =>
          args?.value === undefined && PAIRS[property]
            ? `${property} is required together with ${PAIRS[property]}`
            : `${property} must be the path of a readable file (got ${JSON.stringify(args?.value)})`,
      },
    });
}

/**
 * How an app authenticates to NATS and secures the link. Both apps' environment DTOs extend this,
 * so every NATS connection of the system is configured the same way (see deploy/README.md).
 * Secrets are given as values (NATS_PASSWORD, NATS_TOKEN) or, preferably, as mounted files.
 */
export class NatsEnvDto {
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
