import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { HASH_THREADS } from '../runtime/hash-threads';

/** OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes handed to libuv's pool at once: eight per hashing thread (runtime/hash-threads.ts), so a
 * thread that finishes one starts the next on its own. A hash holds its turn until the main thread
 * has taken its result, and when logins keep every core busy the main thread waits for a CPU too:
 * with two per thread the pool ran dry behind finished hashes not yet taken. The login benchmark,
 * in turns with the argon2 ceiling (bench/NOTES.md, session 27): two per thread 77.5 %, four
 * 80.8–82.6 %, eight 83.4 %. Hashes waiting in libuv's queue hold no memory: only the pool's
 * threads run them, so no more than the pool's size hold their 19 MiB at a time.
 */
const CONCURRENT_HASHES = 8 * HASH_THREADS;

@Injectable()
export class PasswordHasherService implements OnModuleInit {
  /** Verified against when there is no real hash, so an unknown user costs the same time. */
  private dummyHash = '';
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash('portcullis-timing-equaliser', ARGON2_PARAMS);
  }

  hash(password: string): Promise<string> {
    return this.inTurn(() => hash(password.normalize('NFC'), ARGON2_PARAMS));
  }

  /** Always runs argon2, even with no stored hash: no quick exit an attacker could time. */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    try {
      const ok = await this.inTurn(() => verify(storedHash ?? this.dummyHash, password.normalize('NFC')));
      return ok && storedHash !== null;
    } catch {
      return false;
    }
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < CONCURRENT_HASHES) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // A finished hash hands its turn straight to the next in line.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
