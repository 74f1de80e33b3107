import { PortcullisError } from '@portcullis/contracts';

/** Runs of these, forwards or backwards, are not a password: `123456789012`, `qwertyuiopas`. */
const SEQUENCES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnm', 'qwertyuiop', 'asdfghjkl'];

/** Long enough to pass the length rule, and among the first guesses of any attacker. */
const COMMON = new Set([
  'passwordpassword',
  'password1234',
  'password12345',
  'password123456',
  'passw0rd1234',
  'iloveyou1234',
  'changemechangeme',
  'letmein12345',
  'adminadmin123',
  'welcome12345',
]);

/**
 * Why a password is too weak to set, or null. The length bounds are the DTO's; this catches what
 * passes them and is still guessed first: few distinct characters (`aaaaaaaaaaaa`, `abababababab`),
 * a keyboard or alphabet run, a well-known password, or the account's own username (the first
 * guess against any account: Keycloak's "not username", NIST SP 800-63B's context-specific words).
 */
export function passwordWeakness(password: string, username?: string): string | null {
  const p = password.toLowerCase();
  if (username !== undefined && p.normalize('NFC') === username.toLowerCase()) return 'is the username';
  if (new Set(p).size < 5) return 'uses fewer than 5 different characters';
  if (COMMON.has(p)) return 'is a well-known password';
  const run = (s: string) => {
    const wrap = s.repeat(Math.ceil(p.length / s.length) + 1);
    return wrap.includes(p) || [...wrap].reverse().join('').includes(p);
  };
  if (SEQUENCES.some(run)) return 'is a keyboard or alphabet sequence';
  return null;
}

/** Throws BAD_REQUEST naming `field` when the password is weak (for the user named `username`). */
export function assertStrongPassword(password: string, field: string, username?: string): void {
  const why = passwordWeakness(password, username);
  if (why) throw new PortcullisError('BAD_REQUEST', `${field} ${why}`, [{ field, errors: [`${field} ${why}`] }]);
}
