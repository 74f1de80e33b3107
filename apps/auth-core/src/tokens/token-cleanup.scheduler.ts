import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { AccessTokensRepository } from './access-tokens.repository';

const CLEANUP_LOCK_ID = 0x70636c03;

/**
 * Periodic purge of expired token records. Every replica runs the timer; a PostgreSQL advisory
 * lock makes sure only one of them does the work at a time.
 */
@Injectable()
export class TokenCleanupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenCleanup');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly tokens: AccessTokensRepository,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.CLEANUP_INTERVAL_SECONDS;
    if (every > 0) this.timer = setInterval(() => void this.runOnce(), every * 1000).unref();
  }

  /** Returns null when another replica holds the lock. */
  async runOnce(): Promise<{ accessTokens: number; refreshTokens: number; deletedCredentials: number } | null> {
    const runner = this.ds.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [CLEANUP_LOCK_ID]);
      if (!locked) return null;
      try {
        const result = await this.tokens.deleteExpired(this.config.CLOCK_SKEW, 1000, runner.manager);
        if (result.accessTokens || result.refreshTokens || result.deletedCredentials)
          this.logger.log(
            `purged ${result.accessTokens} access and ${result.refreshTokens} refresh token records, ` +
              `${result.deletedCredentials} deleted PATs and API keys`,
          );
        return result;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [CLEANUP_LOCK_ID]);
      }
    } catch (err) {
      this.logger.warn(`cleanup skipped: ${(err as Error).message}`);
      return null;
    } finally {
      await runner.release();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
