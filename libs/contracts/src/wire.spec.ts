import { headers } from '@nats-io/transport-node';
import { acceptableRequestId, requestIdOf } from './wire';

describe('requestIdOf: the caller-chosen request id that may go into logs', () => {
  it('keeps a plain id (letters, digits, _ . -) up to 128 characters', () => {
    expect(acceptableRequestId('obs-1.a_B')).toBe('obs-1.a_B');
    expect(acceptableRequestId('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it('drops anything else: too long, spaces, quotes, control characters, empty, not a string', () => {
    for (const bad of ['a'.repeat(129), 'x'.repeat(1_000_000), 'bad id', 'a"b', 'a\u001bb', 'a\tb', '', undefined, 42])
      expect(acceptableRequestId(bad)).toBeUndefined();
  });

  it('reads the X-Request-Id header of a NATS message, any other caller included', () => {
    const h = headers();
    h.set('X-Request-Id', `EVIL${'x'.repeat(200_000)}`);
    expect(requestIdOf({ headers: h })).toBeUndefined();
    const ok = headers();
    ok.set('X-Request-Id', 'gw-123');
    expect(requestIdOf({ headers: ok })).toBe('gw-123');
    expect(requestIdOf({})).toBeUndefined();
  });
});
