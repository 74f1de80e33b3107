import { RevocationState } from './revocation-state';

const T0 = 1_700_000_000_000;
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** Events reach auth-core and local validators more than once (directly or live, then from the feed), not always in order. */
describe('RevocationState', () => {
  const client = (state: RevocationState, disabled: boolean, ms: number) =>
    state.applyDisabled({ kind: 'client', id: 'c1', disabled, at: at(ms) });

  it('a disable is not undone by an older enable delivered after it', () => {
    const s = new RevocationState();
    client(s, false, 0); // enable, applied directly
    client(s, true, 10); // disable, applied directly
    client(s, false, 0); // the enable again, late, from the feed
    expect(s.isDisabled('client', 'c1')).toBe(true);
    client(s, true, 10); // the disable from the feed: same event, no change
    expect(s.isDisabled('client', 'c1')).toBe(true);
  });

  it('a newer enable lifts an older disable; kinds do not mix', () => {
    const s = new RevocationState();
    client(s, true, 0);
    expect(s.isDisabled('user', 'c1')).toBe(false);
    client(s, false, 5);
    expect(s.isDisabled('client', 'c1')).toBe(false);
  });

  it('a snapshot replaces the disabled set, but events newer than the snapshot stand', () => {
    const s = new RevocationState();
    client(s, true, 100); // arrived while the snapshot (taken at +50) was on its way
    s.applyDisabled({ kind: 'user', id: 'u1', disabled: true, at: at(10) }); // older than the snapshot
    s.loadDisabled([{ kind: 'user', id: 'u2' }], T0 + 50);
    expect(s.isDisabled('client', 'c1')).toBe(true);
    expect(s.isDisabled('user', 'u1')).toBe(false);
    expect(s.isDisabled('user', 'u2')).toBe(true);
    expect(s.snapshot().disabled).toEqual(
      expect.arrayContaining([
        { kind: 'client', id: 'c1' },
        { kind: 'user', id: 'u2' },
      ]),
    );
  });

  it('with a margin, a snapshot that lags behind an event applied here does not undo it', () => {
    // A disable applied live at +10; after a reconnect a lagging replica's snapshot, answered at
    // +1,000 without it. The event is not delivered again, so only the margin keeps it.
    const lagging = () => {
      const s = new RevocationState();
      client(s, true, 10);
      return s;
    };
    const without = lagging();
    without.loadDisabled([], T0 + 1_000);
    expect(without.isDisabled('client', 'c1')).toBe(false);
    const within = lagging();
    within.loadDisabled([], T0 + 1_000, 5_000);
    expect(within.isDisabled('client', 'c1')).toBe(true);
    // The newest event per principal is what is kept: a later enable stands the same way.
    client(within, false, 20);
    within.loadDisabled([{ kind: 'client', id: 'c1' }], T0 + 1_000, 5_000);
    expect(within.isDisabled('client', 'c1')).toBe(false);
    // Beyond the margin the snapshot rules.
    const old = lagging();
    old.loadDisabled([], T0 + 10_000, 5_000);
    expect(old.isDisabled('client', 'c1')).toBe(false);
  });

  it('revoked ids are kept until their token has expired plus a margin, then swept; bad entries are ignored', () => {
    const s = new RevocationState();
    const now = 1_700_000_000;
    s.applyRevoked({
      tokens: [
        { tid: 'long-expired', exp: now - 601 },
        { tid: 'just-expired', exp: now - 10 },
        { tid: 'live', exp: now + 900 },
        { tid: 42 as unknown as string, exp: now },
      ],
    });
    s.sweep(now);
    expect(
      s
        .snapshot()
        .revoked.map((r) => r.tid)
        .sort(),
    ).toEqual(['just-expired', 'live']);
    expect(s.isRevoked('live')).toBe(true);
    expect(s.isRevoked('long-expired')).toBe(false);
  });
});

describe('RevocationState copies', () => {
  it('a copy judges as the original and refuses the same late events', () => {
    const s = new RevocationState();
    s.applyRevoked({ tokens: [{ tid: 't1', exp: 2_000_000_000 }] });
    s.applyDisabled({ kind: 'client', id: 'c1', disabled: true, at: at(0) });
    s.applyDisabled({ kind: 'client', id: 'c1', disabled: false, at: at(10) });
    s.applyDisabled({ kind: 'user', id: 'u1', disabled: true, at: at(5) });
    const c = new RevocationState();
    c.applyRevoked({ tokens: [{ tid: 'stale', exp: 2_000_000_000 }] }); // replaced by the load
    c.load(structuredClone(s.copy()));
    expect(c.isRevoked('stale')).toBe(false);
    expect(c.isRevoked('t1')).toBe(true);
    expect(c.isRevoked('t2')).toBe(false);
    expect(c.isDisabled('user', 'u1')).toBe(true);
    expect(c.isDisabled('client', 'c1')).toBe(false);
    // The disable of time 0 arrives again, late (the feed's copy): the enable of time 10 stands.
    for (const state of [s, c]) state.applyDisabled({ kind: 'client', id: 'c1', disabled: true, at: at(0) });
    expect(c.isDisabled('client', 'c1')).toBe(false);
    expect(c.copy()).toEqual(s.copy());
  });
});
