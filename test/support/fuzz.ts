import fc from 'fast-check';
import { Client } from 'pg';
import { api } from './fixtures';
import { SuiteReport } from './report';
import { login, Stack } from './stack';

/**
 * What the two halves of the property-based fuzzing (fast-check) share: test/security/fuzz-rest.e2e-spec.ts
 * (every operation of the HTTP API, from the OpenAPI document at GET /docs-json) and
 * test/security/fuzz-nats.e2e-spec.ts (every subject in SUBJECTS). The hostile values, the
 * OpenAPI document's shape, and a stack with what the properties need: a fingerprint of every row
 * of every table, the field names the API knows, real values for path parameters.
 *
 * FUZZ_RUNS (default 25) runs per operation and per subject; FUZZ_SEED replays a run.
 */

export const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
export const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

export interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
}
export interface Parameter {
  in: string;
  name: string;
  schema?: Schema;
}
export interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
export interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * The field names of every request body schema, followed through `$ref`s, items and nested
 * properties: what a caller may send. Reply schemas are left out — their fields are never read
 * from a request, so guessing them would only dilute the guesses that reach a handler.
 */
export function requestFieldNames(doc: Doc): Set<string> {
  const names = new Set<string>();
  const seen = new Set<Schema>();
  const walk = (s: (Schema & { items?: Schema }) | undefined): void => {
    const schema = s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : s;
    if (!schema || seen.has(schema)) return;
    seen.add(schema);
    walk((schema as { items?: Schema }).items);
    for (const [k, v] of Object.entries(schema.properties ?? {})) {
      names.add(k);
      walk(v);
    }
  };
  for (const item of Object.values(doc.paths))
    for (const op of Object.values(item)) for (const c of Object.values(op.requestBody?.content ?? {})) walk(c.schema);
  return names;
}

export const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(5)',
  "admin'--",
  '" OR ""="',
  "') UNION SELECT password_hash FROM users --",
  '%27%20OR%201%3D1',
  '$1',
  '\\x00',
];
export const NESTED: unknown[] = [{ $ne: '' }, { $gt: '' }, { a: { b: { c: 1 } } }, [{ $where: '1' }], { toString: 1 }];

export const hostileString = fc.oneof(
  fc.constantFrom(...SQL),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', '__proto__', 'constructor', 'x'.repeat(600), '💥'.repeat(50)),
);
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...NESTED),
  fc.array(hostileString, { maxLength: 5 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/**
 * Starts one half's stack (beforeAll and afterAll of the calling file) and hands out what its
 * properties need; `doc`, `fieldNames` and `pathValues` are filled in by beforeAll. `counted` names
 * the requests the half sends, for its report.
 */
export function fuzzStack(report: SuiteReport, counted: 'REST' | 'NATS') {
  const stack = new Stack({ gatewayEnv: { LOGIN_FAILURES_PER_IP: '100000' } });
  const doc: Doc = { paths: {}, components: { schemas: {} } };
  let pg: Client;
  const fieldNames: string[] = [];
  const pathValues: Record<string, string> = {};
  const stats = { rest: 0, nats: 0, badInput: 0 };

  /** md5 of every row of every table, as one row: equal before and after ⇔ nothing was written. */
  let fingerprintSql = '';
  async function fingerprint(): Promise<Record<string, string>> {
    return (await pg.query(fingerprintSql)).rows[0] as Record<string, string>;
  }

  async function adminToken(): Promise<string> {
    return (await login(stack)).access_token;
  }

  beforeAll(async () => {
    await stack.start();
    pg = new Client({ connectionString: stack.db.url });
    await pg.connect();
    const tables = (
      await pg.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
      )
    ).rows.map((r) => r.t);
    fingerprintSql = `SELECT ${tables
      .map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM "${t}" x) AS "${t}"`)
      .join(', ')}`;
    Object.assign(doc, (await (await fetch(`${stack.url}/docs-json`)).json()) as Doc);
    const names = new Set<string>(['auth']);
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item)) for (const p of op.parameters ?? []) names.add(p.name);
    for (const k of requestFieldNames(doc)) names.add(k);
    fieldNames.push(...[...names].sort());

    const admin = api(stack, await adminToken());
    const victim = await admin.post('/api/v1/users', { username: 'fuzz-victim', password: 'fuzz-victim-password-1' });
    await admin.post('/api/v1/clients', { clientId: 'fuzz-client', roles: ['service'] });
    const key = await admin.post('/api/v1/clients/fuzz-client/api-keys', { name: 'k1' });
    Object.assign(pathValues, {
      id: victim.body.id,
      clientId: 'fuzz-client',
      role: 'service',
      keyId: key.body.id,
      tokenOrName: 'nope',
      tid: '00000000-0000-4000-8000-000000000000',
    });
    report.figure('fast-check seed (FUZZ_SEED to replay)', SEED);
    report.figure(counted === 'REST' ? 'runs per operation (FUZZ_RUNS)' : 'runs per subject (FUZZ_RUNS)', RUNS);
    report.figure('field names known from /docs-json', fieldNames.length);
  }, 90000);

  afterAll(async () => {
    await pg?.end();
    await stack.stop();
    if (counted === 'REST') report.figure('REST requests sent', stats.rest);
    else report.figure('NATS requests sent', stats.nats);
    report.figure('requests refused as bad input (nothing written checked)', stats.badInput);
    report.write();
  }, 60000);

  return { stack, doc, fieldNames, pathValues, stats, fingerprint, adminToken };
}

/** The last test of each half: the fuzzing left both apps up, ready, and without an error logged. */
export function itStillAnswers(stack: Stack): void {
  it('auth-core and the gateway are still running and answering', async () => {
    expect(stack.replicas.every((p) => p.running) && stack.gateway.running).toBe(true);
    expect((await fetch(`${stack.url}/health/ready`)).status).toBe(200);
    expect(stack.logs()).not.toMatch(/"level":(50|60)/);
  });
}
