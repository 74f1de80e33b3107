import { HASH_THREADS } from '../runtime/hash-threads';
import { PasswordHasherService } from './password-hasher.service';

// Pure scheduling: argon2 itself is replaced by verifications that end when the test says.
const pending: Array<{ password: string; done: (ok: boolean) => void }> = [];
jest.mock('@node-rs/argon2', () => ({
  Algorithm: { Argon2id: 2 },
  hash: async () => 'hash',
  verify: (_hash: string, password: string) => new Promise<boolean>((done) => pending.push({ password, done })),
}));

const flush = () => new Promise((r) => setImmediate(r));

describe('PasswordHasherService scheduling', () => {
  it('hands argon2 eight hashes per hashing thread at once, and the rest in arrival order', async () => {
    const hasher = new PasswordHasherService();
    const cap = 8 * HASH_THREADS;
    const results = Array.from({ length: cap + 3 }, (_, i) => hasher.verify('stored', `p${i}`));
    await flush();
    expect(pending.map((p) => p.password)).toEqual(Array.from({ length: cap }, (_, i) => `p${i}`));
    pending.shift()!.done(true);
    await flush();
    expect(pending).toHaveLength(cap);
    expect(pending[cap - 1].password).toBe(`p${cap}`);
    while (pending.length) {
      pending.shift()!.done(true);
      await flush();
    }
    expect(await Promise.all(results)).toEqual(Array(cap + 3).fill(true));
  });
});
