import { DataSource } from 'typeorm';
import { createPinoLogger } from '@portcullis/observability';
import { databaseUrlProblem } from './database-url';
import { dataSourceOptions } from './data-source-options';

/** `npm run migrate`: applies pending migrations and exits; safe to run any number of times. */
const MIGRATION_LOCK_ID = 0x70636c01;

export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(url, 2));
  await ds.initialize();
  // Replicas starting together would race to create the same tables: serialise them.
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const applied = await ds.runMigrations({ transaction: 'all' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}

if (require.main === module) {
  // JSON lines, as the apps write: the Job's log goes down the same pipeline, which parses nothing else.
  const log = createPinoLogger('migrate', 'info');
  const url = process.env.DATABASE_URL;
  const problem = databaseUrlProblem(url);
  if (problem) {
    log.fatal(`Invalid configuration:\n  DATABASE_URL: ${problem}`);
    process.exit(1);
  }
  runMigrations(url!).then(
    (names) => {
      log.info(names.length ? `Applied migrations: ${names.join(', ')}` : 'Database schema is up to date');
      process.exit(0);
    },
    (err: Error) => {
      log.fatal(`Migration failed: ${err.message}`);
      process.exit(1);
    },
  );
}
