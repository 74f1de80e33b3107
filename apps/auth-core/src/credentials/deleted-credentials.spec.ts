import { randomBytes } from 'node:crypto';
import { generateCredential, PAT_PREFIX } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { createDatabase } from '../../../../test/support/stack';
import { AuditService } from '../audit/audit.service';
import { AuthCoreConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/migrate';
import { EventBusService } from '../events/event-bus.service';
import { MasterKey } from '../keys/master-key';
import { AccessTokensRepository, DELETED_CREDENTIALS_KEPT } from '../tokens/access-tokens.repository';
import { PatResolverService } from './pat-resolver.service';
import { PatsRepository } from './pats.repository';

/**
 * PATs and API keys are kept, marked deleted, when deleted (migration DeletedCredentials), against a
 * real PostgreSQL: a deleted PAT is refused by a replica that never saw it live (no cache, no
 * revocation event), and a name is unique among its owner's live credentials only.
 */
describe('deleted PATs and API keys', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ds: DataSource;
  const masterKey = new MasterKey(randomBytes(48).toString('base64'));
  const config = { ISSUER: 'https://issuer.test', AUDIENCE: 'portcullis', DEFAULT_CLIENT_ID: 'portcullis' };
  // The resolver records "used from a new address" audit events; their publication is not under test.
  const bus = { notify: async () => undefined } as unknown as EventBusService;
  const resolvers: PatResolverService[] = [];
  /** A replica's resolver as it starts: nothing cached. */
  const freshResolver = () => {
    const r = new PatResolverService(
      new PatsRepository(ds),
      config as AuthCoreConfig,
      masterKey,
      new AuditService(ds, bus),
    );
    resolvers.push(r);
    return r;
  };
  let userId: string;

  beforeAll(async () => {
    db = await createDatabase();
    await runMigrations(db.url);
    ds = await new DataSource(dataSourceOptions(db.url, 2)).initialize();
    [{ id: userId }] = await ds.query(
      `INSERT INTO users (username, username_normalized, roles) VALUES ('erin', 'erin', '{user}') RETURNING id`,
    );
    await ds.query(`INSERT INTO clients (client_id, roles) VALUES ('robot', '{service}')`);
  }, 60000);
  afterAll(async () => {
    await Promise.all(resolvers.map((r) => r.onApplicationShutdown()));
    await ds?.destroy();
    await db?.drop();
  });

  const insertPat = async (name: string, expiresIn = '1 day') => {
    const token = generateCredential(PAT_PREFIX);
    const [{ id }] = await ds.query(
      `INSERT INTO personal_access_tokens (user_id, name, token_hash, expires_at)
       VALUES ($1, $2, $3, now() + $4::interval) RETURNING id`,
      [userId, name, masterKey.hashSecret(token), expiresIn],
    );
    return { token, id: id as string };
  };

  it('a deleted PAT is unknown to a resolver that never saw it live', async () => {
    const { token, id } = await insertPat('ci');
    expect(await freshResolver().resolve(token)).toMatchObject({ ok: true, claims: { jti: id, typ: 'pat' } });
    await ds.query(`UPDATE personal_access_tokens SET deleted_at = now() WHERE id = $1`, [id]);
    expect(await freshResolver().resolve(token)).toEqual({
      ok: false,
      code: 'UNAUTHENTICATED',
      message: 'Token is unknown or has been deleted',
    });
  });

  it('a PAT name is unique among the live tokens of its owner, free again once deleted', async () => {
    const first = await insertPat('deploy');
    await expect(insertPat('deploy')).rejects.toThrow(/pats_owner_name_uq/);
    await ds.query(`UPDATE personal_access_tokens SET deleted_at = now() WHERE id = $1`, [first.id]);
    const second = await insertPat('deploy');
    await ds.query(`UPDATE personal_access_tokens SET deleted_at = now() WHERE id = $1`, [second.id]);
    await insertPat('deploy');
    const rows = await ds.query(`SELECT deleted_at FROM personal_access_tokens WHERE name = 'deploy'`);
    expect(rows.filter((r: { deleted_at: Date | null }) => r.deleted_at === null)).toHaveLength(1);
    expect(rows).toHaveLength(3);
  });

  it('an API key name is unique among the live keys of its client, free again once deleted', async () => {
    const insertKey = () =>
      ds.query(`INSERT INTO api_keys (client_id, name, key_hash) VALUES ('robot', 'main', $1) RETURNING id`, [
        randomBytes(32),
      ]);
    const [{ id }] = await insertKey();
    await expect(insertKey()).rejects.toThrow(/api_keys_owner_name_uq/);
    await ds.query(`UPDATE api_keys SET deleted_at = now() WHERE id = $1`, [id]);
    await insertKey();
  });

  it('the cleanup purges deleted credentials once they have expired or were deleted long ago, and nothing live', async () => {
    const live = await insertPat('live-expired', '-1 hour');
    const deletedLater = await insertPat('deleted-valid');
    const purged = await insertPat('deleted-expired', '-1 hour');
    await ds.query(`UPDATE personal_access_tokens SET deleted_at = now() WHERE id = ANY($1)`, [
      [deletedLater.id, purged.id],
    ]);
    const key = async (name: string, expiry: string | null, deletedAgo: string | null) =>
      (
        await ds.query(
          `INSERT INTO api_keys (client_id, name, key_hash, expires_at, deleted_at)
           VALUES ('robot', $1, $2, now() + $3::interval, now() - $4::interval) RETURNING id`,
          [name, randomBytes(32), expiry, deletedAgo],
        )
      )[0].id as string;
    const keys = {
      purged: await key('k-deleted-expired', '-1 hour', '0 s'),
      neverExpires: await key('k-deleted-forever', null, '0 s'),
      liveExpired: await key('k-live-expired', '-1 hour', null),
      liveForever: await key('k-live-forever', null, null),
      // Never expires, deleted just past how long deleted credentials are kept.
      longDeleted: await key('k-deleted-long-ago', null, `${DELETED_CREDENTIALS_KEPT} 1 minute`),
    };
    const result = await new AccessTokensRepository(ds).deleteExpired(30, 1);
    expect(result.deletedCredentials).toBe(3);
    const pats = (await ds.query(`SELECT id FROM personal_access_tokens`)).map((r: { id: string }) => r.id);
    expect(pats).not.toContain(purged.id);
    expect(pats).toEqual(expect.arrayContaining([live.id, deletedLater.id]));
    const left = (await ds.query(`SELECT id FROM api_keys`)).map((r: { id: string }) => r.id);
    expect(left).not.toContain(keys.purged);
    expect(left).not.toContain(keys.longDeleted);
    expect(left).toEqual(expect.arrayContaining([keys.neverExpires, keys.liveExpired, keys.liveForever]));
  });
});
