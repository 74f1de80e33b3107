import { ERROR_CODES, ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { login, Stack } from '../support/stack';

/**
 * What a service author meets on `auth.v1.*` besides validate: every subject answers at once — a
 * missing or forged `auth` with UNAUTHENTICATED or BAD_REQUEST, never a success, never INTERNAL, never
 * a timeout; requests without a reply subject leave auth-core serving; a subject nobody serves is
 * told at once by NATS itself ("no responders"), not after the caller's timeout.
 */
const stack = new Stack({ replicas: 1 });
let admin: string;

beforeAll(async () => {
  await stack.start();
  admin = (await login(stack)).access_token;
}, 60000);
afterAll(() => stack.stop(), 60000);

/** Subjects anyone may ask: discovery, keys, status, the revocation snapshot, the IdP list. */
const PUBLIC = new Set<string>([
  SUBJECTS.KEYS_JWKS,
  SUBJECTS.META,
  SUBJECTS.STATUS,
  SUBJECTS.REVOCATIONS_SNAPSHOT,
  SUBJECTS.OIDC_CONFIG,
]);

describe('NATS: the subjects besides validate', () => {
  it('a missing or forged auth is refused at once on every subject, with a known code', async () => {
    const forged = `${admin.slice(0, -6)}AAAAAA`;
    const answers: string[] = [];
    for (const [name, subject] of Object.entries(SUBJECTS)) {
      if (subject === SUBJECTS.TOKEN_VALIDATE) continue;
      for (const [label, payload] of [
        ['no auth', '{}'],
        ['forged auth', JSON.stringify({ auth: forged })],
        ['auth not a string', '{"auth":5}'],
      ]) {
        const started = Date.now();
        const msg = await stack.natsRaw(subject, payload, 2000);
        const code = msg.headers?.get(ERROR_HEADER) ?? '';
        const ms = Date.now() - started;
        if (PUBLIC.has(subject) && !code) continue;
        const body = msg.json<{ error?: { code?: string } }>();
        const ok =
          ['UNAUTHENTICATED', 'BAD_REQUEST', 'INVALID_CREDENTIALS'].includes(code) &&
          body.error?.code === code &&
          ms < 1000;
        if (!ok) answers.push(`${name} ${label}: ${code || 'success'} in ${ms} ms`);
        expect(ERROR_CODES).toContain(code);
      }
    }
    expect(answers).toEqual([]);
  });

  it('requests without a reply subject leave auth-core answering', async () => {
    const nc = await stack.nats();
    // A session of its own: logout and revoke-own may well end it (they are served, just not answered).
    const other = (await login(stack)).access_token;
    for (const subject of Object.values(SUBJECTS))
      for (const payload of ['{}', 'not json', JSON.stringify({ auth: other }), JSON.stringify({ token: other })])
        nc.publish(`${stack.prefix}${subject}`, payload);
    await nc.flush();
    const v = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: admin });
    expect(v.valid).toBe(true);
    const me = await stack.natsRaw(SUBJECTS.AUTH_ME, JSON.stringify({ token: admin }));
    expect(me.headers?.get(ERROR_HEADER) ?? null).toBeNull();
    expect(stack.replicas.every((p) => p.running)).toBe(true);
  });

  it('a subject under auth.v1. that nobody serves fails at once (no responders), not at the timeout', async () => {
    for (const subject of ['auth.v1.nope', 'auth.v1.tokens.nope', 'auth.v2.token.validate']) {
      const started = Date.now();
      const err = await stack.natsRaw(subject, '{}', 5000).then(
        () => null,
        (e: Error) => e,
      );
      expect({ subject, message: err?.message ?? 'answered' }).toEqual({
        subject,
        message: expect.stringMatching(/no responders/i),
      });
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });
});
