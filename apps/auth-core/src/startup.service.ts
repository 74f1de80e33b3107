import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { KeyRingService } from './keys/key-ring.service';
import { MasterKeyRotationService } from './keys/master-key-rotation.service';
import { RevocationCacheService } from './tokens/revocation-cache.service';
import { AdminBootstrapService } from './users/admin-bootstrap.service';

/**
 * Everything that must hold before this replica answers its first request: a signing key, the
 * revocation state, the admin. NATS subscriptions start only after this (see main.ts).
 */
@Injectable()
export class StartupService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Startup');

  constructor(
    private readonly masterKeys: MasterKeyRotationService,
    private readonly keys: KeyRingService,
    private readonly revocations: RevocationCacheService,
    private readonly bootstrap: AdminBootstrapService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Events are followed from a little before the database read, so none falls in between.
    const since = new Date(Date.now() - 5000);
    // Before anything decrypts a signing key or hashes a secret.
    await this.masterKeys.run();
    await this.keys.init(since);
    await this.revocations.init(since);
    await this.bootstrap.run();
    this.logger.log('auth-core state loaded');
  }
}
