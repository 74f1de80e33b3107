import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { insertFromJson, JsonInsert } from '../database/entity-rows';
import { preparedStatement } from '../database/prepared-statement';
import { AccessTokenEntity } from '../tokens/access-token.entity';
import { RefreshTokenEntity } from '../tokens/refresh-token.entity';
import { UserEntity } from './user.entity';

export interface LoginRecord {
  userId: string;
  /** The hash the password was checked against: nothing is recorded once the row holds another. */
  passwordHash: string;
  access: AccessTokenEntity;
  refresh: RefreshTokenEntity;
  audit: AuditEventEntity;
}

/**
 * What a successful password login writes — the access token's registry row, the refresh token,
 * the user's failed-login counter cleared, the audit row — as one statement: one round trip and
 * its own transaction (all or nothing, as before), instead of BEGIN, four statements through
 * TypeORM and COMMIT. During a burst of logins auth-core's main thread shares the CPU with the
 * password hashes, and every round trip it saves is CPU argon2 gets back.
 */
@Injectable()
export class LoginRecordWriter {
  private readonly access: JsonInsert<AccessTokenEntity>;
  private readonly refresh: JsonInsert<RefreshTokenEntity>;
  private readonly audit: JsonInsert<AuditEventEntity>;
  private readonly statement: (values: unknown[]) => Promise<object[]>;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.access = insertFromJson(ds, AccessTokenEntity, '$1', 'one');
    this.refresh = insertFromJson(ds, RefreshTokenEntity, '$2', 'one');
    this.audit = insertFromJson(ds, AuditEventEntity, '$3', 'one');
    const users = ds.getMetadata(UserEntity).tableName;
    // `verified` locks the user's row as the password was checked: a password change or a disable
    // that committed since is waited for and seen (the row is re-read), and one that comes later
    // waits for this commit, so its revocations find this session. Without it, a login that checked
    // the old password could store its session after the change had revoked the others.
    const ifVerified = 'WHERE EXISTS (SELECT 1 FROM verified)';
    this.statement = preparedStatement(
      ds,
      'login-record',
      `
      WITH verified AS MATERIALIZED (
        SELECT id FROM ${users} WHERE id = $4 AND password_hash = $5 AND enabled FOR SHARE
      ),
      access AS (${this.access.sql} ${ifVerified}),
      refresh AS (${this.refresh.sql} ${ifVerified}),
      cleared AS (
        UPDATE ${users} SET failed_logins = 0, locked_until = NULL
        WHERE id = $4 AND (failed_logins > 0 OR locked_until IS NOT NULL) AND EXISTS (SELECT 1 FROM verified)
      )
      ${this.audit.sql} ${ifVerified} RETURNING 1 AS recorded`,
    );
  }

  /** False when the user's password or state changed since it was checked: nothing was written. */
  async record(r: LoginRecord): Promise<boolean> {
    const rows = await this.statement([
      this.access.json(r.access),
      this.refresh.json(r.refresh),
      this.audit.json(r.audit),
      r.userId,
      r.passwordHash,
    ]);
    return rows.length > 0;
  }
}
