import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username varchar(128) NOT NULL,
        username_normalized varchar(128) NOT NULL,
        password_hash varchar(255),
        roles text[] NOT NULL DEFAULT '{}',
        tenants text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        source varchar(16) NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc')),
        password_changed_at timestamptz,
        failed_logins int NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_normalized_uq ON users (username_normalized)`);
    await q.query(`
      CREATE TABLE clients (
        client_id varchar(128) PRIMARY KEY,
        secret_hash bytea,
        roles text[] NOT NULL DEFAULT '{}',
        tenants text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        description varchar(512) NOT NULL DEFAULT '',
        max_token_lifetime int,
        created_by varchar(128),
        registered boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(128) PRIMARY KEY,
        alg varchar(16) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_enc bytea NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('active', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        verify_until timestamptz
      )`);
    // At most one active key, enforced by the database so two replicas starting at once cannot both create one.
    await q.query(`CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((status)) WHERE status = 'active'`);
    await q.query(`
      CREATE TABLE access_tokens (
        tid uuid PRIMARY KEY,
        sub varchar(255) NOT NULL,
        cid varchar(128) NOT NULL,
        rcid varchar(128) NOT NULL,
        typ varchar(16) NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        tenants text[] NOT NULL DEFAULT '{}',
        family_id uuid,
        user_id uuid,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked boolean NOT NULL DEFAULT false,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX access_tokens_sub_idx ON access_tokens (sub, created_at, tid)`);
    await q.query(`CREATE INDEX access_tokens_cid_idx ON access_tokens (cid, created_at, tid)`);
    await q.query(`CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at)`);
    await q.query(`CREATE INDEX access_tokens_family_idx ON access_tokens (family_id) WHERE family_id IS NOT NULL`);
    await q.query(`CREATE INDEX access_tokens_revoked_idx ON access_tokens (expires_at) WHERE revoked`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash bytea NOT NULL,
        family_id uuid NOT NULL,
        user_id uuid NOT NULL,
        cid varchar(128) NOT NULL,
        rcid varchar(128) NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_hash_uq ON refresh_tokens (token_hash)`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)`);
    await q.query(`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`);
    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        type varchar(64) NOT NULL,
        actor varchar(255),
        subject varchar(255),
        success boolean NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_events_created_idx ON audit_events (created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_events', 'refresh_tokens', 'access_tokens', 'signing_keys', 'clients', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
