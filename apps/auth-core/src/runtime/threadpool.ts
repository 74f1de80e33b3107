// Imported first by main.ts: libuv reads UV_THREADPOOL_SIZE when the pool is first used.
import { sizeThreadPool } from './hash-threads';

sizeThreadPool();
