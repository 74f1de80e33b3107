import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A session's absolute end (SESSION_MAX_TTL), carried from refresh token to refresh token. Rows
 * from before it have none: their sessions end by REFRESH_TOKEN_TTL alone, as they were issued.
 */
export class SessionMax1764400000000 implements MigrationInterface {
  name = 'SessionMax1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN session_expires_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN IF EXISTS session_expires_at`);
  }
}
