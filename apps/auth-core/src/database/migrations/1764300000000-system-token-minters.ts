import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A system token's subject is a client, but when a user asked for it, `user_id` names that user:
 * revoking, disabling or deleting the user revokes it too (UserSessionsService.revokeSessions),
 * found through this index rather than a scan of every token.
 */
export class SystemTokenMinters1764300000000 implements MigrationInterface {
  name = 'SystemTokenMinters1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX access_tokens_system_user_idx ON access_tokens (user_id) WHERE typ = 'system'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS access_tokens_system_user_idx`);
  }
}
