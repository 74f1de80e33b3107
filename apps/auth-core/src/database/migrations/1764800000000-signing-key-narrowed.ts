import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a retired signing key's verifyUntil was brought down to the tokens it signed (narrowRetired):
 * set, no replica reads the access tokens for that key again, at its start or later. A key retired
 * again (retireAgain) is narrowed again, so that clears it. Keys narrowed before this column are
 * narrowed once more at the next start, then marked.
 */
export class SigningKeyNarrowed1764800000000 implements MigrationInterface {
  name = 'SigningKeyNarrowed1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE signing_keys ADD COLUMN narrowed_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE signing_keys DROP COLUMN IF EXISTS narrowed_at`);
  }
}
