import { isIP } from 'node:net';
import { EnvCheck } from '@portcullis/contracts';

const DIGITS = /^\d{1,3}$/;

/**
 * TRUST_PROXY in the gateway's env DTO. Fastify hands the value to proxy-addr only when the
 * server is built, and proxy-addr throws a bare TypeError for an entry it cannot parse: so every
 * entry is checked here, as strictly as proxy-addr reads it, and the boot fails naming the variable.
 */
export const TrustProxy = () =>
  EnvCheck('trustProxy', (value) => {
    const problem = problemOf(value);
    return problem === null
      ? null
      : `TRUST_PROXY must be true or a comma-separated list of IP addresses and CIDRs: ${problem}`;
  });

function problemOf(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value === 'true') return null;
  for (const raw of value.split(',')) {
    // Fastify trims each entry before proxy-addr sees it.
    const problem = entryProblem(raw.trim());
    if (problem) return problem;
  }
  return null;
}

function entryProblem(entry: string): string | null {
  if (entry === '') return 'an entry is empty';
  const slash = entry.lastIndexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) {
    // proxy-addr would read "2" as the address 0.0.0.2, and Fastify trusts no hop by count anyway.
    return DIGITS.test(entry)
      ? `${JSON.stringify(entry)} is not an IP address (hop counts are not supported: name the proxies)`
      : `${JSON.stringify(address)} is not an IP address`;
  }
  if (slash === -1) return null;
  const range = entry.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  // proxy-addr refuses a zero prefix (and a zero mask): `true` is how every address is trusted.
  if (DIGITS.test(range)) {
    const bits = Number(range);
    return bits >= 1 && bits <= max ? null : `${JSON.stringify(entry)} has a prefix length outside 1-${max}`;
  }
  if (family === 4 && isIP(range) === 4 && netmaskBits(range) !== null) return null;
  return `${JSON.stringify(entry)} has an invalid prefix length or netmask`;
}

/** The prefix length of a contiguous, non-zero IPv4 netmask (255.255.0.0 → 16); null otherwise. */
function netmaskBits(mask: string): number | null {
  const n = mask.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const bits = 32 - Math.log2(2 ** 32 - n);
  return Number.isInteger(bits) && bits >= 1 ? bits : null;
}
