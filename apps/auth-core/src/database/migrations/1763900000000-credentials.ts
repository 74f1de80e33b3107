import { MigrationInterface, QueryRunner } from 'typeorm';

/** Long-lived credentials: personal access tokens of users and API keys of clients. */
export class Credentials1763900000000 implements MigrationInterface {
  name = 'Credentials1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE personal_access_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(128) NOT NULL,
        token_hash bytea NOT NULL,
        permissions text[] NOT NULL DEFAULT '{}',
        tenants text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX pats_hash_uq ON personal_access_tokens (token_hash)`);
    await q.query(`CREATE UNIQUE INDEX pats_owner_name_uq ON personal_access_tokens (user_id, name)`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id varchar(128) NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        name varchar(128) NOT NULL,
        key_hash bytea NOT NULL,
        permissions text[],
        tenants text[],
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        last_used_ip varchar(64)
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_hash_uq ON api_keys (key_hash)`);
    await q.query(`CREATE UNIQUE INDEX api_keys_owner_name_uq ON api_keys (client_id, name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys`);
    await q.query(`DROP TABLE IF EXISTS personal_access_tokens`);
  }
}
