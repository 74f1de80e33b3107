import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { closedLoop } from '../lib/stats.mjs';
import { decodeJwt } from '../lib/wire.mjs';

/** The app's pg pool (apps/auth-core/src/database/data-source-options.ts). */
const PG_POOL_SIZE = 10;
/** Tokens per group-commit statement in ceiling.pg.token_batch: one per HTTP connection of the client_credentials phase, the most that can wait at once. */
const TOKEN_BATCH = 32;

/**
 * Ceilings of PostgreSQL, in copies of the app's tables on the stack's database: single-row
 * INSERTs with the app's pool size, and the app's client_credentials group-commit statement.
 */
export async function pgCeilings(b, stack, fx) {
  const loop = b.loop;
  const pool = new pg.Pool({ connectionString: stack.db.url, max: PG_POOL_SIZE });
  await pool.query('CREATE TABLE bench_ceiling (LIKE access_tokens INCLUDING ALL)');
  const claims = decodeJwt(fx.minted[0]).payload;
  const op = () =>
    pool.query(
      `INSERT INTO bench_ceiling (tid, sub, cid, rcid, typ, roles, tenants, created_at, expires_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, now(), now() + interval '15 minutes')`,
      [claims.sub, claims.cid, claims.rcid, claims.typ, claims.roles, claims.tenants],
    );
  await b.phase(
    'ceiling.pg.insert',
    'ceiling',
    `PostgreSQL single-row INSERT (autocommit), pg pool of ${PG_POOL_SIZE}, ${PG_POOL_SIZE} in flight`,
    { concurrency: PG_POOL_SIZE },
    () => closedLoop({ concurrency: PG_POOL_SIZE, ...loop, op }),
  );
  await pool.query('DROP TABLE bench_ceiling');
  // What recording a client_credentials token costs PostgreSQL at best: the app's group-commit
  // statement (apps/auth-core/src/tokens/token-record.writer.ts: token rows and their audit
  // rows in one statement) with a full batch of TOKEN_BATCH, as many statements in flight as
  // the writer allows. The client_credentials bound uses its CPU per token.
  await pool.query('CREATE TABLE bench_tokens (LIKE access_tokens INCLUDING ALL)');
  await pool.query('CREATE TABLE bench_audit (LIKE audit_events INCLUDING ALL)');
  const tokenCols =
    'tid, sub, cid, rcid, typ, roles, tenants, family_id, user_id, created_at, expires_at, revoked, revoked_at';
  const auditCols = 'id, type, actor, subject, success, data, created_at';
  const batchSql = `WITH tokens AS (
          INSERT INTO bench_tokens (${tokenCols}) SELECT ${tokenCols} FROM json_populate_recordset(NULL::bench_tokens, $1::json)
        )
        INSERT INTO bench_audit (${auditCols}) SELECT ${auditCols} FROM json_populate_recordset(NULL::bench_audit, $2::json)`;
  const batchOp = () => {
    const at = new Date().toISOString();
    const tokens = [];
    const audits = [];
    for (let k = 0; k < TOKEN_BATCH; k++) {
      const tid = randomUUID();
      tokens.push({
        tid,
        sub: claims.sub,
        cid: claims.cid,
        rcid: claims.rcid,
        typ: claims.typ,
        roles: claims.roles ?? [],
        tenants: claims.tenants ?? [],
        created_at: at,
        expires_at: at,
        revoked: false,
      });
      audits.push({
        id: randomUUID(),
        type: 'token.issued',
        actor: claims.sub,
        subject: tid,
        success: true,
        data: { grant: 'client_credentials' },
        created_at: at,
      });
    }
    return pool.query(batchSql, [JSON.stringify(tokens), JSON.stringify(audits)]);
  };
  await b.phase(
    'ceiling.pg.token_batch',
    'ceiling',
    `PostgreSQL: the app's client_credentials group commit (${TOKEN_BATCH} token rows + their audit rows in one statement), 3 statements in flight; ops/s are statements`,
    { concurrency: 3, tokensPerOp: TOKEN_BATCH },
    () => closedLoop({ concurrency: 3, ...loop, op: batchOp }),
  );
  await pool.query('DROP TABLE bench_tokens');
  await pool.query('DROP TABLE bench_audit');
  await pool.end();
}
