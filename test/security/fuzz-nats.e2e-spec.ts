import fc from 'fast-check';
import { ERROR_CODES, ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { fuzzStack, hostileValue, itStillAnswers, NESTED, RUNS, SEED, SQL } from '../support/fuzz';
import { SuiteReport } from '../support/report';

/**
 * Property-based fuzzing (fast-check) of the payload of every NATS subject in SUBJECTS, with the
 * field names of the OpenAPI document at GET /docs-json. Properties:
 *
 * - never an INTERNAL or unknown error code, never a timeout;
 * - a request refused as bad input (BAD_REQUEST) wrote nothing: a fingerprint of every row of
 *   every table is unchanged;
 * - SQL payloads and nested objects in the filters of the list subjects → BAD_REQUEST;
 * - the processes are still running at the end.
 *
 * FUZZ_RUNS (default 25) runs per subject; FUZZ_SEED replays a run. The HTTP API is fuzzed in
 * fuzz-rest.e2e-spec.ts; what both share is in test/support/fuzz.ts.
 */

const report = new SuiteReport(
  'security/fuzz-nats',
  'Property-based fuzzing of NATS inputs',
  'test/security/fuzz-nats.e2e-spec.ts',
);
const { stack, doc, fieldNames, pathValues, stats, fingerprint, adminToken } = fuzzStack(report, 'NATS');

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

  it('huge and deep payloads get a bounded BAD_REQUEST, and validation goes on answering', async () => {
    const token = await adminToken();
    const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0]));
    // As JSON text: a 10,000-deep object is more than JSON.stringify itself will take.
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    const json = (o: object, deepField?: string) =>
      deepField ? `${JSON.stringify(o).slice(0, -1)},"${deepField}":${deep(10_000)}}` : JSON.stringify(o);
    const cases: Array<[string, string, string]> = [
      // 20,000 unknown fields: their error list alone would have been larger than NATS carries.
      ['validate, 20,000 unknown fields', SUBJECTS.TOKEN_VALIDATE, json({ token, ...manyKeys(20_000) })],
      ['validate, one 400 kB field name', SUBJECTS.TOKEN_VALIDATE, json({ token, ['k'.repeat(400_000)]: 1 })],
      ['validate, nested 10,000 deep', SUBJECTS.TOKEN_VALIDATE, json({ token }, 'x')],
      ['validate, a clientIp that is no address', SUBJECTS.TOKEN_VALIDATE, json({ token, clientIp: 'not an ip <x>' })],
      ['users.list, one 400 kB field name', SUBJECTS.USERS_LIST, json({ auth: token, ['k'.repeat(400_000)]: 1 })],
      ['users.list, 50,000 unknown fields', SUBJECTS.USERS_LIST, json({ auth: token, ...manyKeys(50_000) })],
      ['users.create, nested 10,000 deep', SUBJECTS.USERS_CREATE, json({ auth: token, username: 'deep' }, 'roles')],
    ];
    for (const [label, subject, payload] of cases) {
      report.case(`NATS ${label}`);
      const msg = await stack.natsRaw(subject, payload, 10000);
      stats.nats++;
      expect(msg.data.length).toBeLessThan(16_384);
      const body = msg.json<{ valid?: boolean; error?: { code: string; message: string } }>();
      expect({ label, code: body.error?.code, valid: body.valid }).toEqual({
        label,
        code: 'BAD_REQUEST',
        valid: subject === SUBJECTS.TOKEN_VALIDATE ? false : undefined,
      });
      // The replica that answered keeps answering validations.
      expect((await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid).toBe(true);
    }
    const rest = await fetch(`${stack.url}/api/v1/auth/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({ token }, 'roles'),
    });
    expect(rest.status).toBe(400);
  }, 120000);

  itStillAnswers(stack);
});
