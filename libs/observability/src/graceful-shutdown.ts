import type { Logger } from 'pino';

export interface GracefulShutdownOptions {
  logger: Logger;
  /** Readiness false at once, before anything stops: the load balancer must stop first. */
  onSignal: () => void;
  /** The app's orderly close (Nest's app.close(): servers stop, in-flight work ends, drains, pools close). */
  close: () => Promise<void>;
  /** Time between readiness going false and closing, for endpoints/load balancers to catch up. */
  delayMs: number;
  /** Hard bound on the whole shutdown; keep it below Kubernetes' terminationGracePeriodSeconds. */
  timeoutMs: number;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
}

/**
 * Our own SIGTERM/SIGINT handling instead of Nest's enableShutdownHooks: Nest re-raises the signal
 * after closing (the process then dies by signal, exit code null) and has neither a delay before
 * closing nor a bound on how long closing may take. Here a clean shutdown exits 0, a failed or
 * overdue one exits 1.
 */
export function installGracefulShutdown(opts: GracefulShutdownOptions): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      opts.logger.warn({ signal }, 'shutdown already in progress');
      return;
    }
    started = true;
    opts.onSignal();
    opts.logger.info({ signal, delayMs: opts.delayMs }, 'shutting down: readiness is false');
    const overdue = setTimeout(() => {
      opts.logger.error(`shutdown did not finish within ${opts.timeoutMs} ms`);
      exit(1);
    }, opts.timeoutMs);
    void (async () => {
      try {
        if (opts.delayMs > 0) await new Promise((r) => setTimeout(r, opts.delayMs));
        opts.logger.info('closing: no new connections; finishing in-flight work');
        await opts.close();
        clearTimeout(overdue);
        opts.logger.info('shutdown complete');
        exit(0);
      } catch (err) {
        clearTimeout(overdue);
        opts.logger.error({ err }, 'shutdown failed');
        exit(1);
      }
    })();
  };
  for (const s of opts.signals ?? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[])) process.on(s, onSignal);
}
