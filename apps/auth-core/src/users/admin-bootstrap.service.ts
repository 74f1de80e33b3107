import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { PasswordHasherService } from './password-hasher.service';
import { UsersRepository } from './users.repository';

const BOOTSTRAP_LOCK_ID = 0x70636c02;

/**
 * First start on an empty database creates the admin from ADMIN_USERNAME/ADMIN_PASSWORD. Without
 * a password one is generated and logged exactly once; there is never a built-in default.
 */
@Injectable()
export class AdminBootstrapService {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasherService,
    private readonly audit: AuditService,
  ) {}

  async run(): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      // Two replicas starting together must not both create an admin.
      await m.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_ID]);
      if ((await this.users.count(m)) > 0) return false;
      const generated = !this.config.ADMIN_PASSWORD;
      const password = this.config.ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
      const admin = await this.users.create(
        {
          username: this.config.ADMIN_USERNAME,
          passwordHash: await this.hasher.hash(password),
          roles: ['admin'],
          tenants: ['*'],
          passwordChangedAt: null,
        },
        m,
      );
      await this.audit.record(
        { type: 'user.bootstrap', subject: admin.id, success: true, data: { username: admin.username } },
        m,
      );
      if (generated) {
        // The one place a secret is ever logged, by design: there is no other way to learn it.
        this.logger.warn(
          `Created admin user "${admin.username}" with generated password: ${password} — change it after the first login (PUT /api/v1/users/me/password).`,
        );
      } else {
        this.logger.log(`Created admin user "${admin.username}" from ADMIN_USERNAME/ADMIN_PASSWORD`);
      }
      return true;
    });
  }
}
