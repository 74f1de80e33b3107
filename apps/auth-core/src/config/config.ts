import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadEnv } from '@portcullis/contracts';
import { AuthCoreEnvDto } from './env.dto';

export type AuthCoreConfig = Readonly<AuthCoreEnvDto & { MASTER_KEY: string; masterKeyIsDevelopmentKey: boolean }>;
export const AUTH_CORE_CONFIG = Symbol('AUTH_CORE_CONFIG');

export { ConfigError };

/**
 * Outside production a missing MASTER_KEY falls back to a development key kept in a local file,
 * so `npm run up` works on a fresh clone; production refuses to start without one.
 */
function developmentMasterKey(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(48).toString('base64');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

export function loadAuthCoreConfig(env: NodeJS.ProcessEnv = process.env): AuthCoreConfig {
  const dto = loadEnv(AuthCoreEnvDto, env);
  let masterKeyIsDevelopmentKey = false;
  let masterKey = dto.MASTER_KEY;
  if (!masterKey) {
    masterKey = developmentMasterKey(dto.MASTER_KEY_FILE ?? '.data/master.key');
    masterKeyIsDevelopmentKey = true;
  }
  return Object.freeze({ ...dto, MASTER_KEY: masterKey, masterKeyIsDevelopmentKey });
}

/** The account lockout's settings, as UsersRepository.recordFailedLogin takes them. */
export const lockoutPolicy = (c: AuthCoreConfig) => ({
  threshold: c.LOCKOUT_THRESHOLD,
  baseSeconds: c.LOCKOUT_BASE_SECONDS,
  resetSeconds: c.LOCKOUT_RESET_SECONDS,
});
