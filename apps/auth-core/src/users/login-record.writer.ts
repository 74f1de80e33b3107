import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { columnList, Columns, columnsOf, columnValues } from '../database/entity-rows';
import { AccessTokenEntity } from '../tokens/access-token.entity';
import { RefreshTokenEntity } from '../tokens/refresh-token.entity';
import { UserEntity } from './user.entity';

export interface LoginRecord {
  userId: string;
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
  private readonly access: Columns;
  private readonly refresh: Columns;
  private readonly audit: Columns;
  private readonly statement: string;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.access = columnsOf(ds, AccessTokenEntity);
    this.refresh = columnsOf(ds, RefreshTokenEntity);
    this.audit = columnsOf(ds, AuditEventEntity);
    const table = (e: new () => object) => ds.getMetadata(e).tableName;
    const insert = (e: new () => object, cols: Columns, param: string) =>
      `INSERT INTO ${table(e)} (${columnList(cols)})
       SELECT ${columnList(cols)} FROM json_populate_record(NULL::${table(e)}, ${param}::json)`;
    this.statement = `
      WITH access AS (${insert(AccessTokenEntity, this.access, '$1')}),
      refresh AS (${insert(RefreshTokenEntity, this.refresh, '$2')}),
      cleared AS (
        UPDATE ${table(UserEntity)} SET failed_logins = 0, locked_until = NULL
        WHERE id = $4 AND (failed_logins > 0 OR locked_until IS NOT NULL)
      )
      ${insert(AuditEventEntity, this.audit, '$3')}`;
  }

  async record(r: LoginRecord): Promise<void> {
    await this.ds.query(this.statement, [
      JSON.stringify(columnValues(this.access, r.access)),
      JSON.stringify(columnValues(this.refresh, r.refresh)),
      JSON.stringify(columnValues(this.audit, r.audit)),
      r.userId,
    ]);
  }
}
