import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque long-lived credentials: `<prefix><43 chars of 256-bit randomness>_<6-char checksum>`.
 * The prefix makes them recognisable to log scrubbers and secret scanners; the checksum lets
 * a malformed or mistyped credential be refused without a database look-up.
 */
export const PAT_PREFIX = 'pcl_pat_';
export const API_KEY_PREFIX = 'pcl_key_';

const checksum = (prefix: string, body: string) =>
  createHash('sha256')
    .update(prefix + body)
    .digest('base64url')
    .slice(0, 6);

export function generateCredential(prefix: string): string {
  const body = randomBytes(32).toString('base64url');
  return `${prefix}${body}_${checksum(prefix, body)}`;
}

export function isWellFormedCredential(value: string, prefix: string): boolean {
  if (typeof value !== 'string' || !value.startsWith(prefix)) return false;
  const rest = value.slice(prefix.length);
  const m = /^([A-Za-z0-9_-]{43})_([A-Za-z0-9_-]{6})$/.exec(rest);
  return !!m && checksum(prefix, m[1]) === m[2];
}

/**
 * Whether `value` could be meant as a credential of this kind at all: the prefix and nothing but
 * token characters after it. Such a value that is not well formed (a mistyped or made-up one)
 * cannot have been issued, so it reads as unknown rather than as the caller's misconfiguration.
 */
export function looksLikeCredential(value: string, prefix: string): boolean {
  return (
    typeof value === 'string' && value.startsWith(prefix) && /^[A-Za-z0-9_-]{1,200}$/.test(value.slice(prefix.length))
  );
}
