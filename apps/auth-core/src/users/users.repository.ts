import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Page, PortcullisError } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { entityFromRow, preparedStatement } from '../database/prepared-statement';
import { decodeCursor, encodeCursor, isBoundedText } from '../database/keyset-cursor';
import { UserEntity } from './user.entity';
import { normalizeUsername } from './username-key';

/** Every username, local or federated, fits its varchar(128) column. */
const USER_KEY = [isBoundedText(128)];

/** Persistence of users ; entities stay inside auth-core. */
@Injectable()
export class UsersRepository {
  private readonly byUsername: (values: unknown[]) => Promise<object[]>;
  private readonly asUser: (row: object) => UserEntity;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    const meta = ds.getMetadata(UserEntity);
    // The columns by name, not `*`: a prepared statement whose result type changes (a column added
    // by a migration while this replica runs) fails instead of being planned again.
    const columns = meta.columns.map((c) => c.databaseName).join(', ');
    this.byUsername = preparedStatement(
      ds,
      'users-by-username',
      `SELECT ${columns} FROM ${meta.tableName} WHERE username_normalized = $1`,
    );
    this.asUser = entityFromRow(ds, UserEntity);
  }

  /** Ids of the disabled users. */
  async disabledIds(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.ds.query(`SELECT id FROM users WHERE NOT enabled`);
    return rows.map((r) => r.id);
  }

  /** Those of `ids` that are users enabled now (ids no user has are left out). */
  async enabledAmong(ids: string[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.ds.query(
      `SELECT id::text AS id FROM users WHERE enabled AND id::text = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => r.id);
  }

  findByUsername(username: string, manager: EntityManager = this.ds.manager): Promise<UserEntity | null> {
    return manager.getRepository(UserEntity).findOne({ where: { usernameNormalized: normalizeUsername(username) } });
  }

  /** findByUsername for a password login, outside any transaction: a prepared statement (see preparedStatement). */
  async findForLogin(username: string): Promise<UserEntity | null> {
    const [row] = await this.byUsername([normalizeUsername(username)]);
    return row ? this.asUser(row) : null;
  }

  async update(id: string, values: Partial<UserEntity>, manager: EntityManager = this.ds.manager): Promise<UserEntity> {
    await manager.update(UserEntity, { id }, { ...values, updatedAt: new Date() });
    return (await this.findById(id, manager))!;
  }

  async delete(id: string, manager: EntityManager = this.ds.manager): Promise<void> {
    await manager.delete(UserEntity, { id });
  }

  /**
   * Keyset paging on username_normalized (unique), optionally narrowed: a username prefix
   * (case-insensitive, its LIKE wildcards taken literally), every role named, enabled or not.
   */
  async list(
    limit = 50,
    cursor?: string,
    filter: { username?: string; roles?: string[]; enabled?: boolean } = {},
  ): Promise<Page<UserEntity>> {
    const qb = this.ds
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('TRUE')
      .orderBy('u.username_normalized', 'ASC')
      .limit(limit + 1);
    if (filter.username)
      qb.andWhere(`u.username_normalized LIKE :prefix ESCAPE '\\'`, {
        prefix: `${normalizeUsername(filter.username).replace(/[\\%_]/g, '\\$&')}%`,
      });
    if (filter.roles?.length) qb.andWhere('u.roles @> :roles::text[]', { roles: filter.roles });
    if (filter.enabled !== undefined) qb.andWhere('u.enabled = :enabled', { enabled: filter.enabled });
    if (cursor) qb.andWhere('u.username_normalized > :after', { after: decodeCursor(cursor, USER_KEY)[0] });
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].usernameNormalized]) : null,
    };
  }

  findById(id: string, manager: EntityManager = this.ds.manager): Promise<UserEntity | null> {
    return manager.getRepository(UserEntity).findOne({ where: { id } });
  }

  /**
   * The user, its row locked until the transaction ends: `pessimistic_write` for a delete (taken
   * before its tokens, as a disable's UPDATE takes it), `pessimistic_read` for what must not be
   * written for a user being deleted (a PAT), which then waits for the delete and finds no user.
   */
  findByIdLocked(
    id: string,
    manager: EntityManager,
    mode: 'pessimistic_write' | 'pessimistic_read',
  ): Promise<UserEntity | null> {
    return manager.getRepository(UserEntity).findOne({ where: { id }, lock: { mode } });
  }

  /** Whether `id` (a lower-case UUID) is a user's id, or was one whose tokens are still on record. */
  async isOrWasUser(id: string, manager: EntityManager = this.ds.manager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM users WHERE id = $1::uuid
       UNION ALL SELECT 1 FROM access_tokens WHERE sub = $2 AND typ IN ('user', 'pat') LIMIT 1`,
      [id, id],
    );
    return rows.length > 0;
  }

  async create(
    input: Pick<UserEntity, 'username' | 'passwordHash' | 'roles' | 'tenants'> & Partial<UserEntity>,
    manager: EntityManager = this.ds.manager,
  ): Promise<UserEntity> {
    const repo = manager.getRepository(UserEntity);
    try {
      return await repo.save(repo.create({ ...input, usernameNormalized: normalizeUsername(input.username) }));
    } catch (err) {
      // A creation beside this one took the name after the caller found it free.
      if ((err as { code?: string }).code === '23505')
        throw new PortcullisError('CONFLICT', `User ${input.username} already exists`);
      throw err;
    }
  }

  /**
   * Just-in-time provisioning of an external (OIDC) user keyed by `iss#sub`: created on the first
   * sign-in, roles (and tenants when the IdP sends them) refreshed on each later one. A disabled
   * user is left as it is and null comes back, so an admin's "disable" outlives any IdP claim.
   */
  async upsertExternal(
    input: { externalSubject: string; username: string; roles: string[]; tenants: string[] | null },
    manager: EntityManager = this.ds.manager,
  ): Promise<{ user: UserEntity; created: boolean; previous: { roles: string[]; tenants: string[] } | null } | null> {
    // `prev` reads the row as it was before this statement, for the audit of what the IdP changed.
    const rows: Array<{ id: string; created: boolean; prev_roles: string[] | null; prev_tenants: string[] | null }> =
      await manager.query(
        `WITH prev AS (SELECT roles, tenants FROM users WHERE external_subject = $5)
         INSERT INTO users (username, username_normalized, password_hash, roles, tenants, source, external_subject)
         VALUES ($1, $2, NULL, $3, $4, 'oidc', $5)
         ON CONFLICT (external_subject) WHERE external_subject IS NOT NULL DO UPDATE
           SET roles = EXCLUDED.roles,
               tenants = CASE WHEN $6::boolean THEN EXCLUDED.tenants ELSE users.tenants END,
               updated_at = now()
           WHERE users.enabled
         RETURNING id, (xmax = 0) AS created, (SELECT roles FROM prev) AS prev_roles,
           (SELECT tenants FROM prev) AS prev_tenants`,
        [
          input.username,
          normalizeUsername(input.username),
          input.roles,
          input.tenants ?? [],
          input.externalSubject,
          input.tenants !== null,
        ],
      );
    if (!rows.length) return null;
    const [row] = rows;
    return {
      user: (await this.findById(row.id, manager))!,
      created: row.created,
      previous: row.prev_roles ? { roles: row.prev_roles, tenants: row.prev_tenants ?? [] } : null,
    };
  }

  count(manager: EntityManager = this.ds.manager): Promise<number> {
    return manager.getRepository(UserEntity).count();
  }

  /**
   * `id` null runs the same statement matching no row, so every failed login costs the same.
   * `policy.resetSeconds`: failures older than this are forgotten before this one is counted
   * (Keycloak's failure reset time); 0 keeps them until a successful login.
   */
  async recordFailedLogin(
    id: string | null,
    policy: { threshold: number; baseSeconds: number; resetSeconds: number },
    manager: EntityManager = this.ds.manager,
  ): Promise<void> {
    // Exponential back-off once past the threshold: base, 2×base, … capped at 15 minutes. The
    // exponent stops at 10 (any base ≥ 1 s is past the cap by then): unbounded, the doubling
    // overflowed the interval some 45 failures on, and every failure after that was an error.
    // A row from before last_failed_login_at existed (null) keeps its count.
    const count = `(CASE WHEN $4 > 0 AND last_failed_login_at < now() - make_interval(secs => $4)
      THEN 0 ELSE failed_logins END + 1)`;
    await manager.query(
      `UPDATE users SET failed_logins = ${count},
         last_failed_login_at = now(),
         locked_until = CASE WHEN ${count} >= $2
           THEN now() + least(interval '15 minutes', make_interval(secs => $3) * power(2, least(${count} - $2, 10)))
           ELSE locked_until END
       WHERE id = $1`,
      [id, policy.threshold, policy.baseSeconds, policy.resetSeconds],
    );
  }
}
