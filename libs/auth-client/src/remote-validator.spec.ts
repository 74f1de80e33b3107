import type { NatsConnection } from '@nats-io/transport-node';
import { ERROR_HEADER, EVENTS, ValidateTokenReply } from '@portcullis/contracts';
import { RemoteValidator } from './remote-validator';

/** A NATS connection whose requests, events and status changes the test drives by hand. */
function fakeNats() {
  const callbacks = new Map<string, (err: unknown, msg: { json: () => unknown }) => void>();
  const pending: Array<(reply: unknown, headers?: Record<string, string>) => void> = [];
  let pushStatus: (s: { type: string }) => void = () => undefined;
  const statuses: Array<{ type: string }> = [];
  let wake: (() => void) | undefined;
  const nc = {
    subscribe: (subject: string, opts: { callback: (err: unknown, msg: { json: () => unknown }) => void }) => {
      callbacks.set(subject, opts.callback);
      return { unsubscribe: () => undefined };
    },
    request: () =>
      new Promise((resolve) =>
        pending.push((reply, headers) =>
          resolve({ json: () => reply, headers: headers && { get: (k: string) => headers[k] ?? '' } }),
        ),
      ),
    status: () => ({
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (statuses.length) yield statuses.shift()!;
          await new Promise<void>((r) => (wake = r));
        }
      },
    }),
  };
  pushStatus = (s) => {
    statuses.push(s);
    wake?.();
  };
  const emit = (subject: string, event: unknown) => callbacks.get(subject)!(null, { json: () => event });
  return { nc: nc as unknown as NatsConnection, pending, emit, pushStatus };
}

const claims = { jti: 't1', sub: 'svc', cid: 'svc', exp: Math.floor(Date.now() / 1000) + 600 };
const valid = { valid: true, claims } as unknown as ValidateTokenReply;
const tick = () => new Promise((r) => setImmediate(r));

describe('RemoteValidator: a cached answer is never older than the last revocation it heard', () => {
  const opts = { cacheSize: 10, cacheTtlMs: 5000, timeoutMs: 1000 };

  it('caches a positive answer when nothing happened while it was asked', async () => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const first = v.validate('tok');
    f.pending.shift()!(valid);
    expect(await first).toEqual(valid);
    expect(await v.validate('tok')).toEqual(valid); // from the cache: no new request
    expect(f.pending).toHaveLength(0);
    v.close();
  });

  it('does not keep an answer asked for before a revocation arrived', async () => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const asked = v.validate('tok');
    // The revocation event overtakes the reply, which auth-core computed before it.
    f.emit(EVENTS.TOKEN_REVOKED, { tokens: [{ tid: 't1', exp: claims.exp }] });
    f.pending.shift()!(valid);
    expect(await asked).toEqual(valid);
    const again = v.validate('tok');
    expect(f.pending).toHaveLength(1); // asked again, not served from the cache
    f.pending.shift()!({ valid: false, error: { code: 'UNAUTHENTICATED', message: 'revoked', details: null } });
    expect((await again).valid).toBe(false);
    v.close();
  });

  it.each([
    ['a null tenant', { tenant: null }],
    ['a field validate does not know', { scopes: ['x'] }],
  ])('a request with %s is asked, not answered by the cached answer to a well-formed one', async (_l, extra) => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const first = v.validate('tok');
    f.pending.shift()!(valid);
    await first;
    const odd = v.validate('tok', extra as never);
    expect(f.pending).toHaveLength(1); // auth-core judges it (BAD_REQUEST), as local mode does
    const badRequest = { valid: false, error: { code: 'BAD_REQUEST', message: 'Invalid request', details: null } };
    f.pending.shift()!(badRequest);
    expect(await odd).toEqual(badRequest);
    v.close();
  });

  it('forgets every answer when the connection drops (events sent meanwhile are lost to it)', async () => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const first = v.validate('tok');
    f.pending.shift()!(valid);
    await first;
    f.pushStatus({ type: 'disconnect' });
    await tick();
    void v.validate('tok');
    expect(f.pending).toHaveLength(1);
    v.close();
  });
});

describe('RemoteValidator: whatever comes back, the answer has the shape of auth.v1.token.validate', () => {
  const opts = { cacheSize: 10, cacheTtlMs: 5000, timeoutMs: 1000 };

  it('an error reply (Portcullis-Error header) becomes {valid: false, error} with its code', async () => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const asked = v.validate('tok');
    const error = { code: 'INTERNAL', message: 'Internal error', details: null };
    f.pending.shift()!({ error }, { [ERROR_HEADER]: 'INTERNAL' });
    expect(await asked).toEqual({ valid: false, error });
    v.close();
  });

  it.each([
    ['valid without claims', { valid: true }],
    ['no valid field', { claims }],
    ['null', null],
    ['a refusal without an error', { valid: false }],
  ])('%s: UNAVAILABLE, never a rejected promise nor a pass', async (_label, reply) => {
    const f = fakeNats();
    const v = new RemoteValidator(f.nc, opts);
    const asked = v.validate('tok');
    f.pending.shift()!(reply);
    const answer = await asked;
    expect({ valid: answer.valid, code: answer.valid ? null : answer.error.code }).toEqual({
      valid: false,
      code: 'UNAVAILABLE',
    });
    v.close();
  });
});
