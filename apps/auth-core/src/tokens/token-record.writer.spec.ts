import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDatabase } from '../../../../test/support/stack';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/migrate';
import { AccessTokenEntity } from './access-token.entity';
import { TokenRecordWriter } from './token-record.writer';

/** Against a real PostgreSQL: a database of its own, migrated, dropped after. */
describe('TokenRecordWriter', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ds: DataSource;
  let writer: TokenRecordWriter;

  beforeAll(async () => {
    db = await createDatabase();
    await runMigrations(db.url);
    ds = await new DataSource(dataSourceOptions(db.url, 4)).initialize();
    writer = new TokenRecordWriter(ds);
  }, 60000);
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const rows = (cid: string) => {
    const tid = randomUUID();
    const now = new Date();
    const token: AccessTokenEntity = {
      tid,
      sub: cid,
      cid,
      rcid: cid,
      typ: 'client',
      roles: ['service'],
      tenants: [],
      familyId: null,
      userId: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
      revoked: false,
      revokedAt: null,
    };
    const audit = {
      id: randomUUID(),
      type: 'token.issued',
      actor: cid,
      subject: cid,
      success: true,
      data: { tid },
      createdAt: now,
    } as AuditEventEntity;
    return { token, audit };
  };
  const count = async (sql: string, values: unknown[]) => ((await ds.query(sql, values)) as Array<{ n: number }>)[0].n;

  it('records the rows of one turn in one statement, and runs whileCommitting work after it was sent', async () => {
    const sent: string[] = [];
    const originalQuery = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const config = args[0] as { name?: string } | string;
      if (typeof config === 'object' && config?.name === 'token-record-batch') sent.push('statement');
      return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    try {
      const batch = Array.from({ length: 5 }, () => rows('writer-batch'));
      const done = batch.map(({ token, audit }) => {
        const recording = writer.record(token, audit);
        return Promise.all([writer.whileCommitting(() => sent.push('work')), recording]);
      });
      const results = await Promise.all(done);
      expect(results.map(([, recorded]) => recorded)).toEqual([true, true, true, true, true]);
      // One statement for the five, sent before any of the work that overlaps its commit.
      expect(sent).toEqual(['statement', ...batch.map(() => 'work')]);
    } finally {
      spy.mockRestore();
    }
    expect(await count(`SELECT count(*)::int AS n FROM access_tokens WHERE cid = $1`, ['writer-batch'])).toBe(5);
    expect(await count(`SELECT count(*)::int AS n FROM audit_events WHERE subject = $1`, ['writer-batch'])).toBe(5);
  });

  it('whileCommitting passes on what the work throws', async () => {
    await expect(
      writer.whileCommitting(() => {
        throw new Error('no key');
      }),
    ).rejects.toThrow('no key');
  });

  it('records nothing of a token whose client is no longer what it was built from', async () => {
    const { token, audit } = rows('writer-gone');
    const builtFrom = {
      clientId: 'writer-gone',
      secretHash: Buffer.from('00', 'hex'),
      roles: ['service'],
      tenants: [],
      maxTokenLifetime: null,
    };
    expect(await writer.record(token, audit, builtFrom)).toBe(false);
    expect(await count(`SELECT count(*)::int AS n FROM access_tokens WHERE tid = $1`, [token.tid])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM audit_events WHERE id = $1`, [audit.id])).toBe(0);
  });

  it("fails every caller of a batch with the database's error, and writes none of it", async () => {
    const good = rows('writer-fail');
    const dup = rows('writer-fail');
    dup.token.tid = good.token.tid; // the same primary key twice in one statement
    const both = [writer.record(good.token, good.audit), writer.record(dup.token, dup.audit)];
    const settled = await Promise.allSettled(both);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(await count(`SELECT count(*)::int AS n FROM access_tokens WHERE cid = $1`, ['writer-fail'])).toBe(0);
  });
});
