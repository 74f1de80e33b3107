import fc from 'fast-check';
import { Client } from 'pg';
import { ERROR_CODES, ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { api } from '../support/fixtures';
import { SuiteReport } from '../support/report';
import { login, Stack } from '../support/stack';

/**
 * Property-based fuzzing (fast-check) of every JSON body, query parameter and path parameter of
 * the HTTP API — the list comes from the OpenAPI document at GET /docs-json, not from this file —
 * and of the payload of every NATS subject in SUBJECTS. Properties:
 *
 * - never a 5xx (REST) / never an INTERNAL or unknown error code, never a timeout (NATS);
 * - every REST error is the SPEC §4 envelope (or RFC 6749 on /oauth) with statusCode = status;
 * - a request refused as bad input (400/413/415, BAD_REQUEST) wrote nothing: a fingerprint of
 *   every row of every table is unchanged;
 * - SQL payloads and nested objects in the listing filters → 400 naming the field (REST) and
 *   BAD_REQUEST (NATS);
 * - the processes are still running at the end.
 *
 * FUZZ_RUNS (default 25) runs per operation and per subject; FUZZ_SEED replays a run.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const report = new SuiteReport(
  'security/fuzz',
  'Property-based fuzzing of REST and NATS inputs',
  'test/security/fuzz.e2e-spec.ts',
);

interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Parameter {
  in: string;
  name: string;
  schema?: Schema;
}
interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const SQL = [
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
const NESTED: unknown[] = [{ $ne: '' }, { $gt: '' }, { a: { b: { c: 1 } } }, [{ $where: '1' }], { toString: 1 }];

const hostileString = fc.oneof(
  fc.constantFrom(...SQL),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', '__proto__', 'constructor', 'x'.repeat(600), '💥'.repeat(50)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
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

const stack = new Stack({ gatewayEnv: { LOGIN_FAILURES_PER_IP: '100000' } });
let doc: Doc;
let pg: Client;
let fieldNames: string[] = [];
const pathValues: Record<string, string> = {};
const stats = { rest: 0, nats: 0, badInput: 0 };

/** md5 of every row of every table, as one row: equal before and after ⇔ nothing was written. */
let fingerprintSql = '';
async function fingerprint(): Promise<Record<string, string>> {
  return (await pg.query(fingerprintSql)).rows[0] as Record<string, string>;
}

const resolve = (s: Schema | undefined): Schema =>
  s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : (s ?? {});

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
  doc = (await (await fetch(`${stack.url}/docs-json`)).json()) as Doc;
  const names = new Set<string>(['auth']);
  for (const item of Object.values(doc.paths))
    for (const op of Object.values(item)) for (const p of op.parameters ?? []) names.add(p.name);
  for (const s of Object.values(doc.components.schemas)) for (const k of Object.keys(s.properties ?? {})) names.add(k);
  fieldNames = [...names].sort();

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
  report.figure('runs per operation / per subject (FUZZ_RUNS)', RUNS);
  report.figure('field names known from /docs-json', fieldNames.length);
}, 90000);

afterAll(async () => {
  await pg?.end();
  await stack.stop();
  report.figure('REST requests sent', stats.rest);
  report.figure('NATS requests sent', stats.nats);
  report.figure('requests refused as bad input (nothing written checked)', stats.badInput);
  report.write();
}, 60000);

interface RestCase {
  path: string;
  query: Array<[string, string]>;
  body?: unknown;
  rawBody?: string;
}

async function send(method: string, c: RestCase, token: string | undefined) {
  const qs = c.query.length
    ? `?${c.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`
    : '';
  const body = c.rawBody ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  const res = await fetch(`${stack.url}${c.path}${qs}`, {
    method: method.toUpperCase(),
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  stats.rest++;
  return { status: res.status, text };
}

/** Checks one REST answer; returns a description of what is wrong, or null. */
function restProblem(path: string, r: { status: number; text: string }): string | null {
  if (r.status >= 500) return `HTTP ${r.status}: ${r.text.slice(0, 200)}`;
  if (r.status < 400) return null;
  let body: { statusCode?: number; status?: string; error?: unknown } | null = null;
  try {
    body = JSON.parse(r.text);
  } catch {
    return `error answer is not JSON: ${r.text.slice(0, 100)}`;
  }
  if (path.startsWith('/oauth/'))
    return typeof body?.error === 'string' ? null : `not an RFC 6749 error: ${r.text.slice(0, 100)}`;
  if (body?.statusCode !== r.status || typeof body?.status !== 'string')
    return `not the envelope: ${r.text.slice(0, 100)}`;
  return null;
}

describe('REST: every operation of /docs-json', () => {
  it('has operations with bodies, query parameters and path parameters to fuzz', () => {
    const ops = Object.values(doc.paths).flatMap((i) => Object.values(i));
    expect(ops.filter((o) => o.requestBody).length).toBeGreaterThanOrEqual(15);
    expect(ops.filter((o) => o.parameters?.some((p) => p.in === 'query')).length).toBeGreaterThanOrEqual(5);
  });

  it(`never 5xx, always the envelope, nothing written on bad input (${RUNS} runs per operation)`, async () => {
    const targets = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.requestBody?.content['application/json'] || op.parameters?.length)
        .map(([method, op]) => ({ method, path, op })),
    );
    report.figure('REST operations fuzzed', targets.length);
    for (const { method, path, op } of targets) {
      const key = `${method.toUpperCase()} ${path}`;
      report.case(`REST ${key}`);
      const token = op.security?.length ? await adminToken() : undefined;
      const bodySchema = resolve(op.requestBody?.content['application/json']?.schema);
      const props = Object.keys(bodySchema.properties ?? {});
      const params = op.parameters ?? [];
      const pathParams = params.filter((p) => p.in === 'path');
      const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);

      const bodyArb: fc.Arbitrary<{ body?: unknown; rawBody?: string }> = op.requestBody
        ? fc.oneof(
            // the operation's own fields, each with a hostile value, plus maybe an unknown one
            fc
              .record({
                own: fc.dictionary(props.length ? fc.constantFrom(...props) : fc.string(), hostileValue, {
                  maxKeys: 4,
                }),
                extra: fc.option(
                  fc.dictionary(fc.constantFrom(...fieldNames, '__proto__', 'constructor'), hostileValue, {
                    maxKeys: 2,
                  }),
                ),
              })
              .map(({ own, extra }) => ({ body: { ...own, ...(extra ?? {}) } })),
            // any JSON at all: arrays, strings, numbers, null, deep objects
            fc.jsonValue({ maxDepth: 4 }).map((body) => ({ body })),
            // not JSON
            fc.string({ maxLength: 50 }).map((rawBody) => ({ rawBody })),
          )
        : fc.constant({});
      const queryArb = fc.array(
        fc.tuple(
          fc.oneof(
            queryParams.length ? fc.constantFrom(...queryParams) : fc.constant('q'),
            fc.constantFrom(...fieldNames).map((n) => `${n}[$ne]`),
            fc.string({ maxLength: 10 }),
          ),
          hostileString,
        ),
        { maxLength: queryParams.length ? 4 : 1 },
      );
      const pathArb = fc.array(
        fc.oneof(
          hostileString.filter((s) => s.length > 0),
          fc.constant(''),
        ),
        {
          minLength: pathParams.length,
          maxLength: pathParams.length,
        },
      );

      await fc.assert(
        fc.asyncProperty(bodyArb, queryArb, pathArb, fc.boolean(), async (b, query, pathVals, realPath) => {
          let i = 0;
          const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => {
            const v = realPath ? (pathValues[name] ?? pathVals[i]) : pathVals[i] || 'x';
            i++;
            return encodeURIComponent(v);
          });
          const before = await fingerprint();
          const r = await send(method, { path: concrete, query, ...b }, token);
          report.requests(`REST ${r.status >= 500 ? '5xx' : r.status >= 400 ? '4xx' : '2xx/3xx'}`);
          const problem = restProblem(path, r);
          if (problem) {
            report.error(`REST ${key}: ${problem.slice(0, 80)}`);
            throw new Error(`${key} ${JSON.stringify({ query, ...b }).slice(0, 300)} → ${problem}`);
          }
          if ([400, 413, 415].includes(r.status)) {
            stats.badInput++;
            const after = await fingerprint();
            if (JSON.stringify(after) !== JSON.stringify(before)) {
              report.error(`REST ${key}: wrote on bad input`);
              throw new Error(
                `${key} answered ${r.status} but changed ${Object.keys(after).filter((t) => after[t] !== before[t])}`,
              );
            }
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
    expect(stack.replicas.every((p) => p.running) && stack.gateway.running).toBe(true);
  }, 300000);

  it('SQL payloads and nested objects in listing filters → 400 naming the field', async () => {
    // Filters = query parameters of GET operations; /auth/validate's are requirement names
    // (matched literally, in memory, never in SQL), so any string there is a legal role name.
    const filters = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => method === 'get' && path !== '/api/v1/auth/validate')
        .flatMap(([, op]) =>
          (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ path, op, name: p.name })),
        ),
    );
    expect(filters.length).toBeGreaterThanOrEqual(8);
    const token = await adminToken();
    for (const { path, name } of filters) {
      report.case(`filter ${name} of GET ${path}: SQL and nested objects`);
      const attempts: Array<[string, string]> = [
        ...SQL.filter((s) => s !== '$1').map((s): [string, string] => [name, s]),
        [`${name}[$ne]`, ''],
        [`${name}[0][a]`, 'b'],
        [`${name}[]`, "' OR 1=1 --"],
        [name, JSON.stringify({ $gt: '' })],
      ];
      for (const [k, v] of attempts) {
        const before = await fingerprint();
        const r = await send('get', { path: path.replace('{id}', pathValues.id), query: [[k, v]] }, token);
        report.requests('REST filter attack');
        let fields: string[] = [];
        try {
          fields = (JSON.parse(r.text).error?.data?.fields ?? []).map((f: { field: string }) => f.field);
        } catch {
          /* asserted below */
        }
        if (r.status !== 400) report.error(`filter ${name} accepted ${JSON.stringify(v)}`);
        expect({ path, k, v, status: r.status, named: fields.some((f) => f.startsWith(name)) }).toEqual({
          path,
          k,
          v,
          status: 400,
          named: true,
        });
        expect(await fingerprint()).toEqual(before);
      }
    }
  }, 120000);
});

describe('NATS: every subject of SUBJECTS', () => {
  const subjects = Object.entries(SUBJECTS);

  it(`never INTERNAL, never silent, nothing written on BAD_REQUEST (${RUNS} runs per subject)`, async () => {
    expect(subjects.length).toBeGreaterThanOrEqual(40);
    report.figure('NATS subjects fuzzed', subjects.length);
    for (const [name, subject] of subjects) {
      report.case(`NATS ${subject}`);
      const token = await adminToken();
      const objectArb = fc
        .dictionary(
          fc.constantFrom(...fieldNames),
          fc.oneof(hostileValue, fc.constantFrom(token, pathValues.id, 'fuzz-client')),
          {
            maxKeys: 5,
          },
        )
        .map((o) => JSON.stringify(o));
      const payloadArb = fc.oneof(
        objectArb,
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.constantFrom(...SQL, '', '{', 'null', '[]', '{"__proto__":{"admin":true}}'),
        fc.uint8Array({ maxLength: 64 }),
      );
      await fc.assert(
        fc.asyncProperty(payloadArb, async (payload) => {
          const before = await fingerprint();
          let msg;
          try {
            msg = await stack.natsRaw(subject, payload, 5000);
          } catch (err) {
            report.error(`NATS ${subject}: ${(err as Error).message}`);
            throw new Error(`${name}: no answer to ${String(payload).slice(0, 200)}: ${(err as Error).message}`);
          }
          stats.nats++;
          const code = msg.headers?.get(ERROR_HEADER) ?? '';
          report.requests(`NATS ${code || 'ok'}`);
          let body: { valid?: boolean; error?: { code?: string } };
          try {
            body = msg.json();
          } catch {
            report.error(`NATS ${subject}: reply is not JSON`);
            throw new Error(`${name}: reply is not JSON: ${msg.string().slice(0, 100)}`);
          }
          if (
            code &&
            (code === 'INTERNAL' || !(ERROR_CODES as readonly string[]).includes(code) || body.error?.code !== code)
          ) {
            report.error(`NATS ${subject}: ${code}`);
            throw new Error(`${name}: ${code} ${msg.string().slice(0, 200)} for ${String(payload).slice(0, 200)}`);
          }
          if (subject === SUBJECTS.TOKEN_VALIDATE && (code || body.valid === undefined))
            throw new Error(`validate must answer, not raise: ${msg.string().slice(0, 200)}`);
          const bad = code === 'BAD_REQUEST' || body.error?.code === 'BAD_REQUEST';
          if (bad) {
            stats.badInput++;
            const after = await fingerprint();
            if (JSON.stringify(after) !== JSON.stringify(before)) {
              report.error(`NATS ${subject}: wrote on BAD_REQUEST`);
              throw new Error(
                `${name} answered BAD_REQUEST but changed ${Object.keys(after).filter((t) => after[t] !== before[t])}`,
              );
            }
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
    expect(stack.replicas.every((p) => p.running) && stack.gateway.running).toBe(true);
  }, 300000);

  it('SQL payloads and nested objects in the filters of the list subjects → BAD_REQUEST', async () => {
    const token = await adminToken();
    const listSubjects = Object.entries(SUBJECTS).filter(
      ([k]) => /_LIST(_ALL)?$/.test(k) && !/PATS|API_KEYS|KEYS_LIST/.test(k),
    );
    const filterNames = [
      ...new Set(
        Object.entries(doc.paths).flatMap(([path, item]) =>
          path === '/api/v1/auth/validate'
            ? []
            : Object.values(item).flatMap((op) =>
                (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
              ),
        ),
      ),
    ].filter((n) => !['limit', 'exclude_expired', 'revoke_tokens'].includes(n));
    expect(listSubjects.length).toBeGreaterThanOrEqual(4);
    for (const [, subject] of listSubjects)
      for (const f of [...filterNames, 'limit', 'exclude_expired'])
        for (const v of [
          ...SQL.map((s) => (['limit', 'exclude_expired', 'cursor'].includes(f) ? s : [s])),
          ...NESTED,
        ]) {
          report.case(`NATS ${subject} filter ${f}`);
          const msg = await stack.natsRaw(subject, JSON.stringify({ auth: token, [f]: v }));
          stats.nats++;
          report.requests('NATS filter attack');
          const code = msg.headers?.get(ERROR_HEADER);
          if (code !== 'BAD_REQUEST') report.error(`NATS ${subject} filter ${f} answered ${code ?? 'ok'}`);
          expect({ subject, f, v, code }).toEqual({ subject, f, v, code: 'BAD_REQUEST' });
        }
  }, 120000);

  it('auth-core and the gateway are still running and answering', async () => {
    expect(stack.replicas.every((p) => p.running) && stack.gateway.running).toBe(true);
    expect((await fetch(`${stack.url}/health/ready`)).status).toBe(200);
    expect(stack.logs()).not.toMatch(/"level":(50|60)/);
  });
});
