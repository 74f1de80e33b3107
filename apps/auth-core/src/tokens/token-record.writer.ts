import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { atTurnEnd } from '@portcullis/nats-options';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { ClientEntity } from '../clients/client.entity';
import { insertFromJson, JsonInsert } from '../database/entity-rows';
import { preparedStatement } from '../database/prepared-statement';
import { AccessTokenEntity } from './access-token.entity';

/** The client row a token was built from, which must still be current when the token is recorded. */
export type ClientState = Pick<ClientEntity, 'clientId' | 'secretHash' | 'roles' | 'tenants' | 'maxTokenLifetime'>;

interface Pending {
  token: AccessTokenEntity;
  audit: AuditEventEntity;
  expect?: ClientState;
  resolve: (recorded: boolean) => void;
  reject: (err: unknown) => void;
}

/** Rows per statement; bounds the statement size and how long one batch holds its connection. */
const MAX_BATCH = 256;
/** Statements in flight at once; the rest of the pool stays free for every other request. */
const MAX_FLUSHES = 3;

/**
 * Group commit for tokens that stand alone (client_credentials): the registry row and its audit
 * row of every request waiting at that moment go to PostgreSQL in one statement (two multi-row
 * INSERTs, atomic together), instead of four round trips per token. A caller's promise resolves only
 * once its rows are committed (the token is answered only when recorded, as before) and rejects
 * with the database's error when the batch fails, so an outage still reads as UNAVAILABLE.
 * When the database keeps up, a batch is the requests of one event-loop turn: nothing waits longer
 * for company.
 *
 * A token may come with the client row it was built from (`expect`): it is then recorded only if
 * that client is, in the statement's snapshot, still enabled with the same secret, roles, tenants
 * and lifetime cap, and `record` resolves `false` otherwise (nothing of it written). That lets the
 * caller build the token from the client as it last read it and still never issue one the current
 * row would refuse, without a read of its own before the write.
 */
@Injectable()
export class TokenRecordWriter {
  private readonly queue: Pending[] = [];
  private flushing = 0;
  private flushDue = false;

  private readonly tokens: JsonInsert<AccessTokenEntity>;
  private readonly audits: JsonInsert<AuditEventEntity>;
  private readonly insertBatch: (values: unknown[]) => Promise<Array<{ tid: string }>>;
  private readonly removeRows: (values: unknown[]) => Promise<unknown>;

  constructor(@InjectDataSource() ds: DataSource) {
    this.tokens = insertFromJson(ds, AccessTokenEntity, '$1', 'many');
    this.audits = insertFromJson(ds, AuditEventEntity, '$2', 'many');
    const clients = ds.getMetadata(ClientEntity).tableName;
    const tokenTable = ds.getMetadata(AccessTokenEntity).tableName;
    const auditTable = ds.getMetadata(AuditEventEntity).tableName;
    this.removeRows = (values) =>
      ds.query(`WITH t AS (DELETE FROM ${tokenTable} WHERE tid = $1) DELETE FROM ${auditTable} WHERE id = $2`, values);
    // `live`: the clients' rows as they are now, taken FOR SHARE. A change that holds its client's
    // row (role change, disable, secret rotation, delete) and then revokes the client's tokens either
    // commits first, and this statement then sees the changed row (READ COMMITTED re-reads a row it
    // waited for) and records nothing from the old one; or it waits for this statement, and its sweep
    // then sees these tokens. Without the lock a token built from the old row could commit after the
    // sweep and keep a removed role until it expires.
    // `stale`: the tokens (and their audit rows) whose client no longer is what they were built from.
    // Prepared: PostgreSQL would otherwise parse and plan this statement (four CTEs) for every batch.
    this.insertBatch = preparedStatement(
      ds,
      'token-record-batch',
      `
      WITH expected AS (
        SELECT * FROM json_to_recordset($3::json) AS x(tid uuid, audit_id uuid, client_id varchar, secret_hash bytea,
                                                       roles text[], tenants text[], max_token_lifetime int)
      ), live AS (
        SELECT c.client_id, c.enabled, c.secret_hash, c.roles, c.tenants, c.max_token_lifetime
        FROM ${clients} c WHERE c.client_id IN (SELECT client_id FROM expected)
        FOR SHARE
      ), stale AS (
        SELECT x.tid, x.audit_id
        FROM expected x
        WHERE NOT EXISTS (
          SELECT 1 FROM live c
          WHERE c.client_id = x.client_id AND c.enabled AND c.secret_hash = x.secret_hash
            AND c.roles = x.roles AND c.tenants = x.tenants
            AND c.max_token_lifetime IS NOT DISTINCT FROM x.max_token_lifetime)
      ), tokens AS (
        ${this.tokens.sql} AS t WHERE t.tid NOT IN (SELECT tid FROM stale)
      ), audits AS (
        ${this.audits.sql} AS a WHERE a.id NOT IN (SELECT audit_id FROM stale)
      )
      SELECT tid FROM stale`,
    );
  }

  /** Resolves `true` once recorded, `false` when `expect` no longer matches the client (nothing written). */
  record(token: AccessTokenEntity, audit: AuditEventEntity, expect?: ClientState): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      // The first record of an event-loop turn does not go out alone: every request handled in
      // the same turn (a NATS read carries many) joins its statement.
      if (this.queue.push({ token, audit, expect, resolve, reject }) === 1 && !this.flushDue) {
        this.flushDue = true;
        atTurnEnd(() => {
          this.flushDue = false;
          this.flush();
        });
      }
    });
  }

  /**
   * Removes a token's recorded rows again, for a token that was recorded but never handed out
   * (its signing failed): a failed request leaves nothing behind.
   */
  async discard(tid: string, auditId: string): Promise<void> {
    await this.removeRows([tid, auditId]);
  }

  /**
   * Runs `work` once the statement holding the records of this turn is on its way to PostgreSQL,
   * so that work overlaps the commit instead of delaying the statement. The batch is sent from a
   * turn-end callback (setImmediate) and the pool's callbacks right after it; a setImmediate queued
   * after `record` runs once those are done. Correctness does not depend on it: only the overlap.
   */
  whileCommitting<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(work());
        } catch (err) {
          reject(err);
        }
      }),
    );
  }

  private flush(): void {
    while (this.flushing < MAX_FLUSHES && this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.flushing++;
      this.write(batch)
        .then(
          (stale) => batch.forEach((p) => p.resolve(!stale.has(p.token.tid))),
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.flushing--;
          this.flush();
        });
    }
  }

  /**
   * One statement, so one round trip and its own transaction: the batch goes as JSON arrays that
   * PostgreSQL expands into rows of the tables' own types (cheaper on both sides than binding 13
   * parameters per row).
   */
  private async write(batch: Pending[]): Promise<Set<string>> {
    const expected = batch.flatMap(({ token, audit, expect: c }) =>
      c
        ? [
            {
              tid: token.tid,
              audit_id: audit.id,
              client_id: c.clientId,
              secret_hash: c.secretHash ? `\\x${c.secretHash.toString('hex')}` : null,
              roles: c.roles,
              tenants: c.tenants,
              max_token_lifetime: c.maxTokenLifetime,
            },
          ]
        : [],
    );
    const stale = await this.insertBatch([
      this.tokens.json(batch.map((p) => p.token)),
      this.audits.json(batch.map((p) => p.audit)),
      JSON.stringify(expected),
    ]);
    return new Set(stale.map((r) => r.tid));
  }
}
