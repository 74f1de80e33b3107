import fc from 'fast-check';
import { fuzzStack, hostileString, hostileValue, itStillAnswers, RUNS, Schema, SEED, SQL } from '../support/fuzz';
import { SuiteReport } from '../support/report';

/**
 * Property-based fuzzing (fast-check) of every JSON body, query parameter and path parameter of
 * the HTTP API — the list comes from the OpenAPI document at GET /docs-json, not from this file.
 * Properties:
 *
 * - never a 5xx;
 * - every REST error is the SPEC §4 envelope (or RFC 6749 on /oauth) with statusCode = status;
 * - a request refused as bad input (400/413/415) wrote nothing: a fingerprint of every row of
 *   every table is unchanged;
 * - SQL payloads and nested objects in the listing filters → 400 naming the field;
 * - the processes are still running at the end.
 *
 * FUZZ_RUNS (default 25) runs per operation; FUZZ_SEED replays a run. The payloads of the NATS
 * subjects are fuzzed in fuzz-nats.e2e-spec.ts; what both share is in test/support/fuzz.ts.
 */

const report = new SuiteReport(
  'security/fuzz-rest',
  'Property-based fuzzing of REST inputs',
  'test/security/fuzz-rest.e2e-spec.ts',
);
const { stack, doc, fieldNames, pathValues, stats, fingerprint, adminToken } = fuzzStack(report, 'REST');

const resolve = (s: Schema | undefined): Schema =>
  s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : (s ?? {});

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

  itStillAnswers(stack);
});
