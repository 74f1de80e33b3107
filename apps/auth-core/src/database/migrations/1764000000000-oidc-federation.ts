import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users provisioned from an external identity provider are keyed by `iss#sub` (OIDC Core §5.7),
 * never by email or username, so the key gets its own unique column.
 */
export class OidcFederation1764000000000 implements MigrationInterface {
  name = 'OidcFederation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN external_subject varchar(1024)`);
    await q.query(
      `CREATE UNIQUE INDEX users_external_subject_uq ON users (external_subject) WHERE external_subject IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS users_external_subject_uq`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS external_subject`);
  }
}
