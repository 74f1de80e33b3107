import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while handling one request carries, so logs join across apps. */
export interface RequestContext {
  requestId?: string;
  subject?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
