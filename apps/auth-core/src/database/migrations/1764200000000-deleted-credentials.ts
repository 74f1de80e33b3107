import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A deleted PAT or API key is kept, marked deleted, instead of removed: deleting it again then
 * answers as the first delete did (SPEC §7, revocation is idempotent), and only a name or value
 * that never existed is "not found". A name is unique among the live credentials of its owner, so
 * it can be used again once its credential is deleted.
 */
export class DeletedCredentials1764200000000 implements MigrationInterface {
  name = 'DeletedCredentials1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE personal_access_tokens ADD COLUMN deleted_at timestamptz`);
    await q.query(`DROP INDEX pats_owner_name_uq`);
    await q.query(
      `CREATE UNIQUE INDEX pats_owner_name_uq ON personal_access_tokens (user_id, name) WHERE deleted_at IS NULL`,
    );
    await q.query(`ALTER TABLE api_keys ADD COLUMN deleted_at timestamptz`);
    await q.query(`DROP INDEX api_keys_owner_name_uq`);
    await q.query(`CREATE UNIQUE INDEX api_keys_owner_name_uq ON api_keys (client_id, name) WHERE deleted_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    // What was deleted goes for good, as it did before this migration.
    await q.query(`DELETE FROM api_keys WHERE deleted_at IS NOT NULL`);
    await q.query(`DROP INDEX api_keys_owner_name_uq`);
    await q.query(`CREATE UNIQUE INDEX api_keys_owner_name_uq ON api_keys (client_id, name)`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN deleted_at`);
    await q.query(`DELETE FROM personal_access_tokens WHERE deleted_at IS NOT NULL`);
    await q.query(`DROP INDEX pats_owner_name_uq`);
    await q.query(`CREATE UNIQUE INDEX pats_owner_name_uq ON personal_access_tokens (user_id, name)`);
    await q.query(`ALTER TABLE personal_access_tokens DROP COLUMN deleted_at`);
  }
}
