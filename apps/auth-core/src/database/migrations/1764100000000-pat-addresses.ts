import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The addresses each personal access token has been used from, so "used from a new address" is
 * judged once for the whole deployment, not once per replica (and again after every restart).
 */
export class PatAddresses1764100000000 implements MigrationInterface {
  name = 'PatAddresses1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pat_addresses (
        pat_id uuid NOT NULL REFERENCES personal_access_tokens (id) ON DELETE CASCADE,
        ip varchar(64) NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pat_id, ip)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS pat_addresses`);
  }
}
