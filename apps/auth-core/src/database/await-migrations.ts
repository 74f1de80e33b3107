import { createServer, Server } from 'node:http';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

/** How often a replica waiting for its schema looks again. */
const POLL_MS = 1000;

/** The migrations this build knows that the database has not recorded, oldest first. */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  let applied = new Set<string>();
  try {
    const rows = (await ds.query('SELECT name FROM portcullis_migrations')) as Array<{ name: string }>;
    applied = new Set(rows.map((r) => r.name));
  } catch (err) {
    // 42P01: no migrations table yet, so nothing is applied; anything else is a real failure.
    if ((err as { code?: string }).code !== '42P01') throw err;
  }
  return ds.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
}

/**
 * With MIGRATE_ON_START=false (compose, Kubernetes) the schema comes from a separate job, which a
 * rollout does not wait for. A replica of a newer build started on an older schema would load its
 * state, subscribe to the queue group and answer requests with INTERNAL errors (a column missing)
 * while its readiness said ready; on an empty database it crashed with a stack trace. Instead it
 * waits here, before any NATS subscription: live, not ready (naming the pending migrations), and
 * carries on starting once the job has applied them. SIGTERM while waiting exits 0.
 */
export async function awaitMigrations(url: string, healthPort: number, logger: Logger): Promise<void> {
  const ds = new DataSource(dataSourceOptions(url, 1));
  await ds.initialize();
  let pending = await pendingMigrations(ds);
  if (!pending.length) return void (await ds.destroy());
  logger.warn(
    { pending },
    `waiting for ${pending.length} migration(s) to be applied (MIGRATE_ON_START=false: run the migration job or npm run migrate); not ready meanwhile`,
  );
  const server = waitingHealthServer(() => pending);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(healthPort, '0.0.0.0', resolve);
  });
  const stop = () => {
    logger.info('stopped while waiting for migrations');
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    while (pending.length) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      pending = await pendingMigrations(ds).catch((err: Error) => {
        logger.warn(`could not read the applied migrations: ${err.message}`);
        return pending;
      });
    }
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await ds.destroy();
  }
  logger.info('migrations applied: starting');
}

/** /health/live answers, /health/ready is 503 with the same shape as the app's own probe. */
function waitingHealthServer(pending: () => string[]): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify(body));
    };
    if (path === '/health/live') return send(200, { status: 'ok' });
    if (path === '/health/ready') {
      const migrations = { status: 'down', pending: pending() };
      return send(503, { status: 'error', info: {}, error: { migrations }, details: { migrations } });
    }
    send(404, { status: 'error', message: 'Not found' });
  });
}
