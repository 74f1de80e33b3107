import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key material encrypted under MASTER_KEY that must outlive it: the secret-hash key (refresh
 * tokens, client secrets, PATs and API keys are stored as its HMAC), so that MASTER_KEY can be
 * rotated without making every stored secret unusable. Filled at the next start (see
 * MasterKeyRotationService): until then the key is derived from MASTER_KEY as it always was.
 */
export class MasterKeyMaterial1764710000000 implements MigrationInterface {
  name = 'MasterKeyMaterial1764710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE master_key_material (
        name varchar(64) PRIMARY KEY,
        ciphertext bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS master_key_material`);
  }
}
