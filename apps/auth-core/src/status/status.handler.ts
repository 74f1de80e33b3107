import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  JwksReply,
  MetaReply,
  PERMISSIONS,
  PortcullisError,
  RevocationSnapshot,
  rolePermissions,
  StatusReply,
  SUBJECTS,
} from '@portcullis/contracts';
import { serviceVersion } from '@portcullis/observability';
import { ALLOWED_ALGORITHMS } from '@portcullis/jwt';
import { DataSource } from 'typeorm';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from '../tokens/revocation-cache.service';

export const REPLICA_ID = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
export const VERSION = serviceVersion();

/** Read-only answers the gateway needs: JWKS, issuer metadata, service status. */
@Controller()
export class StatusHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
  ) {}

  @MessagePattern(SUBJECTS.KEYS_JWKS)
  jwks(): JwksReply {
    return this.keys.jwks();
  }

  /** For SDKs in local mode: the revocation state to start from before following events. */
  @MessagePattern(SUBJECTS.REVOCATIONS_SNAPSHOT)
  revocationSnapshot(): RevocationSnapshot {
    // A replica catching up after a reconnect lacks what it missed: the SDK asks again (another one).
    if (!this.revocations.isCurrent())
      throw new PortcullisError('UNAVAILABLE', 'This replica is catching up with the events stream');
    return this.revocations.snapshot();
  }

  @MessagePattern(SUBJECTS.META)
  meta(): MetaReply {
    return {
      issuer: this.config.ISSUER,
      audience: this.config.AUDIENCE,
      signingAlgorithms: [...ALLOWED_ALGORITHMS],
      clockSkew: this.config.CLOCK_SKEW,
      scopes: [...new Set([...PERMISSIONS, ...Object.keys(rolePermissions())])],
    };
  }

  @MessagePattern(SUBJECTS.STATUS)
  async status(): Promise<StatusReply> {
    const database = await this.databaseUp();
    return {
      name: 'portcullis-auth-core',
      version: VERSION,
      auth_provider_initialized: this.keys.isReady() && this.revocations.isLoaded(),
      auth_db_initialized: database,
      database: database ? 'up' : 'down',
      replica: REPLICA_ID,
    };
  }

  /** Bounded: a database that hangs (rather than refuses) must read as down, not stall the status. */
  async databaseUp(timeoutMs = 1000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const probe = this.ds.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
