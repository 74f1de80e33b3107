import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { AccessTokenEntity } from './access-token.entity';

type AccessRow = AccessTokenEntity;
type AuditRow = AuditEventEntity;

interface Pending {
  token: AccessRow;
  audit: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Rows per transaction; bounds the statement size and how long one batch holds its connection. */
const MAX_BATCH = 256;
/** Transactions in flight at once; the rest of the pool stays free for every other request. */
const MAX_FLUSHES = 3;

/**
 * Group commit for tokens that stand alone (client_credentials): the registry row and its audit
 * row of every request waiting at that moment go to PostgreSQL in one transaction of two
 * multi-row INSERTs, instead of four round trips per token. A caller's promise resolves only
 * once its rows are committed (the token is answered only when recorded, as before) and rejects
 * with the database's error when the batch fails, so an outage still reads as UNAVAILABLE.
 * When the database keeps up, a batch is a single request: nothing waits for company.
 */
@Injectable()
export class TokenRecordWriter {
  private readonly queue: Pending[] = [];
  private flushing = 0;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  record(token: AccessRow, audit: AuditRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ token, audit, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.flushing < MAX_FLUSHES && this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.flushing++;
      this.write(batch)
        .then(
          () => batch.forEach((p) => p.resolve()),
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.flushing--;
          this.flush();
        });
    }
  }

  private write(batch: Pending[]): Promise<void> {
    return this.ds.transaction(async (m) => {
      await m
        .createQueryBuilder()
        .insert()
        .into(AccessTokenEntity)
        .values(batch.map((p) => p.token))
        .updateEntity(false)
        .execute();
      await m
        .createQueryBuilder()
        .insert()
        .into(AuditEventEntity)
        .values(batch.map((p) => p.audit as never)) // jsonb `data` is not a TypeORM deep-partial
        .updateEntity(false)
        .execute();
    });
  }
}
