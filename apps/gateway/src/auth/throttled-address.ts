import { isIPv6 } from 'node:net';

/** The groups of an IPv6 part (either side of `::`); a dotted IPv4 tail is two groups. */
const groupsOf = (part: string) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);

/**
 * What failed logins are counted per: an IPv4 address, or the /64 an IPv6 address is in. A
 * subscriber line or a cloud machine is handed a whole /64 (RFC 6177), so counting each IPv6
 * address alone let one caller start afresh from any of its 2^64 addresses. An IPv4-mapped IPv6
 * address counts as the IPv4 address it is.
 */
export function throttledAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail] = ip.split('%', 1)[0].toLowerCase().split('::');
  const before = groupsOf(head);
  const after = tail === undefined ? [] : groupsOf(tail);
  const groups = [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
