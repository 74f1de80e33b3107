import { MigrationInterface, QueryRunner } from 'typeorm';

/** When the last failed login was counted, so that failures older than LOCKOUT_RESET_SECONDS are forgotten. */
export class FailedLoginReset1764500000000 implements MigrationInterface {
  name = 'FailedLoginReset1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN last_failed_login_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS last_failed_login_at`);
  }
}
