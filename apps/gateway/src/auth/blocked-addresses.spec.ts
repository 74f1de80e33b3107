import { BlockedAddresses } from './blocked-addresses';

describe('BlockedAddresses', () => {
  it('answers a block until it runs out, then forgets it', () => {
    const b = new BlockedAddresses();
    b.record('a', 2000, 1000);
    expect(b.blockedUntil('a', 1999)).toBe(2000);
    expect(b.blockedUntil('a', 2000)).toBe(0);
    expect(b.size).toBe(0);
    expect(b.blockedUntil('unknown', 1000)).toBe(0);
  });

  it('a later entry that is no block (a new window, a delete, a purge) lifts it', () => {
    const b = new BlockedAddresses();
    b.record('a', 5000, 1000);
    b.record('a', 0, 1100);
    expect(b.blockedUntil('a', 1200)).toBe(0);
    // A block already over when heard of is not kept.
    b.record('b', 900, 1000);
    expect(b.size).toBe(0);
  });

  it('sweeps blocks that ran out, so addresses that never come back do not pile up', () => {
    const b = new BlockedAddresses();
    for (let i = 0; i < 1000; i++) b.record(`old-${i}`, 1500, 1000);
    expect(b.size).toBe(1000);
    for (let i = 0; i < 24; i++) b.record(`new-${i}`, 9000, 2000);
    expect(b.size).toBe(24);
    expect(b.blockedUntil('new-0', 2000)).toBe(9000);
  });
});
