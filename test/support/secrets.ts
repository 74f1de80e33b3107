import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Stack } from './stack';

/** Where a secret was found in clear, e.g. `db users.password_hash: admin password`. */
export interface Leak {
  where: string;
  secret: string;
}

interface Column {
  table: string;
  column: string;
  type: string;
}

/**
 * Every text-like value the stack's database holds: each text, varchar, json(b), array and bytea
 * column of every table, bytea both as its bytes (escape form) and as hex.
 */
export async function dumpDatabase(stack: Stack): Promise<Array<{ where: string; value: string }>> {
  const columns = await stack.query<Column>(
    `SELECT c.table_name AS table, c.column_name AS column, c.data_type AS type
       FROM information_schema.columns c JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED'))
      ORDER BY 1, 2`,
  );
  const out: Array<{ where: string; value: string }> = [];
  for (const c of columns) {
    const col = `"${c.column.replace(/"/g, '""')}"`;
    const expr = c.type === 'bytea' ? `encode(${col}, 'escape') || ' ' || encode(${col}, 'hex')` : `${col}::text`;
    const rows = await stack.query<{ v: string | null }>(
      `SELECT ${expr} AS v FROM "${c.table.replace(/"/g, '""')}" WHERE ${col} IS NOT NULL`,
    );
    for (const r of rows) if (r.v) out.push({ where: `db ${c.table}.${c.column}`, value: r.v });
  }
  return out;
}

/** Every message still in the stack's JetStream event stream (audit, revocations, …). */
export async function dumpEvents(stack: Stack): Promise<Array<{ where: string; value: string }>> {
  const nc = await connect({ servers: stack.natsUrl });
  const out: Array<{ where: string; value: string }> = [];
  try {
    const jsm = await jetstreamManager(nc);
    const name = stack.streamName('PORTCULLIS_EVENTS');
    const info = await jsm.streams.info(name).catch(() => null);
    if (!info) return out;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (m) out.push({ where: `event ${m.subject}`, value: m.string() });
    }
  } finally {
    await nc.close();
  }
  return out;
}

/**
 * What Prometheus scrapes from the gateway and every replica still running (a suite may have killed
 * one on purpose and kept it in the list, so that its logs are still searched).
 */
export async function dumpMetrics(stack: Stack): Promise<Array<{ where: string; value: string }>> {
  const live = stack.replicaPorts.filter((_, i) => stack.replicas[i]?.running);
  const urls = [stack.url, ...live.map((p) => `http://127.0.0.1:${p}`)];
  return Promise.all(
    urls.map(async (u) => ({ where: `metrics ${u}`, value: await (await fetch(`${u}/metrics`)).text() })),
  );
}

/**
 * Searches the captured logs of every process, the whole database, the event stream, every
 * /metrics and whatever else the caller collected (answers, the audit API) for each secret value, in clear and as hex / base64 (what a careless bytea or Buffer log would show).
 */
export async function findSecretLeaks(
  stack: Stack,
  secrets: Record<string, string>,
  extra: Array<{ where: string; value: string }> = [],
): Promise<Leak[]> {
  const haystacks = [
    { where: 'logs', value: stack.logs() },
    ...(await dumpDatabase(stack)),
    ...(await dumpEvents(stack)),
    ...(await dumpMetrics(stack)),
    ...extra,
  ];
  const leaks: Leak[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    if (!secret || secret.length < 8) throw new Error(`secret ${name} is too short to search for meaningfully`);
    const forms = [
      secret,
      Buffer.from(secret).toString('hex'),
      Buffer.from(secret).toString('base64'),
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const h of haystacks) if (forms.some((f) => h.value.includes(f))) leaks.push({ where: h.where, secret: name });
  }
  return leaks;
}
