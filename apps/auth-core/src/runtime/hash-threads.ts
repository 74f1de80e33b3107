import { availableParallelism } from 'node:os';

/**
 * Threads hashing passwords at once: one per CPU, at most 4. auth-core's libuv pool is sized to
 * this (UV_THREADPOOL_SIZE, unless the operator sets it), and PasswordHasherService keeps more
 * hashes in flight than that: the pool's threads then start the next hash themselves the moment
 * one ends, instead of waiting for the main thread — busy with NATS and PostgreSQL during a burst
 * of logins — to hand it over. Only the pool's threads hash, so memory still holds one 19 MiB hash
 * per thread.
 */
export const HASH_THREADS = Math.max(1, Math.min(availableParallelism(), 4));

/** Must run before anything uses the libuv pool: main.ts imports it first. */
export function sizeThreadPool(env: NodeJS.ProcessEnv = process.env): void {
  env.UV_THREADPOOL_SIZE ??= String(HASH_THREADS);
}
