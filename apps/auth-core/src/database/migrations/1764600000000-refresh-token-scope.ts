import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scope a session was granted at sign-in (the password grant's `scope`), carried from refresh
 * token to refresh token so a refresh never widens it (RFC 6749 §6). Rows from before it have
 * none: those sessions were never narrowed.
 */
export class RefreshTokenScope1764600000000 implements MigrationInterface {
  name = 'RefreshTokenScope1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN scope text[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN IF EXISTS scope`);
  }
}
