import { throttledAddress } from './throttled-address';

describe('throttledAddress', () => {
  it('keeps an IPv4 address as it is, and reads an IPv4-mapped IPv6 address as that address', () => {
    expect(throttledAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(throttledAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(throttledAddress('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 together, however it is written', () => {
    const net = '2001:db8:a:b::/64';
    for (const ip of [
      '2001:db8:a:b::1',
      '2001:db8:a:b:1:2:3:4',
      '2001:0DB8:000a:000b:ffff::9',
      '2001:db8:a:b::',
      '2001:db8:a:b:0:0:198.51.100.1',
      '2001:db8:a:b::1%eth0',
    ])
      expect(throttledAddress(ip)).toBe(net);
    expect(throttledAddress('2001:db8:a:c::1')).not.toBe(net);
    expect(throttledAddress('::1')).toBe('0:0:0:0::/64');
    expect(throttledAddress('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('leaves what is not an address alone', () => {
    expect(throttledAddress('unknown')).toBe('unknown');
  });
});
