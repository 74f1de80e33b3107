import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { MasterKey } from './master-key';
import { ROTATION_LOCK_ID } from './signing-keys.repository';

const SECRET_HASH = 'secret-hash';

/**
 * Runs first at start: makes everything stored under a previous MASTER_KEY (MASTER_KEY_PREVIOUS)
 * stored under the current one, and loads the secret-hash key. That key is kept in the database,
 * encrypted, so a new MASTER_KEY leaves every stored refresh token, client secret, PAT and API key
 * usable; a database from before this was kept is given the key derived as it was then, from the
 * MASTER_KEY its signing keys were stored under.
 */
@Injectable()
export class MasterKeyRotationService {
  private readonly logger = new Logger('MasterKey');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly masterKey: MasterKey,
  ) {}

  async run(): Promise<void> {
    await this.ds.transaction(async (m) => {
      // Rotations wait meanwhile: a key made now is encrypted under the current MASTER_KEY anyway.
      await m.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK_ID]);
      const keys = (await m.query(
        `SELECT kid, status, private_key_enc FROM signing_keys ORDER BY (status = 'active') DESC, created_at DESC`,
      )) as Array<{ kid: string; status: string; private_key_enc: Buffer }>;
      const hashKey = await this.secretHashKey(m, keys[0]);
      let moved = 0;
      for (const key of keys) {
        let opened: { plain: Buffer; index: number };
        try {
          opened = this.masterKey.open(key.private_key_enc, key.kid);
        } catch {
          // The active key is checked, with an error naming MASTER_KEY, by the key ring; a retired one only verifies (public half).
          if (key.status !== 'active') this.logger.warn(`no MASTER_KEY given decrypts retired signing key ${key.kid}`);
          continue;
        }
        if (opened.index === 0) continue;
        await m.query(`UPDATE signing_keys SET private_key_enc = $2 WHERE kid = $1`, [
          key.kid,
          this.masterKey.encrypt(opened.plain, key.kid),
        ]);
        moved++;
      }
      if (moved) this.logger.log(`stored ${moved} signing key(s) again under the current MASTER_KEY`);
      this.masterKey.useHashKey(hashKey);
    });
  }

  private async secretHashKey(m: EntityManager, newest?: { kid: string; private_key_enc: Buffer }): Promise<Buffer> {
    const [stored] = (await m.query(`SELECT ciphertext FROM master_key_material WHERE name = $1`, [
      SECRET_HASH,
    ])) as Array<{
      ciphertext: Buffer;
    }>;
    if (stored) {
      let opened: { plain: Buffer; index: number };
      try {
        opened = this.masterKey.open(stored.ciphertext, SECRET_HASH);
      } catch {
        throw new Error(
          'MASTER_KEY cannot decrypt the key material in this database: it is not the MASTER_KEY it was stored with (give that one as MASTER_KEY_PREVIOUS to rotate)',
        );
      }
      if (opened.index > 0) await this.store(m, opened.plain);
      return opened.plain;
    }
    // Stored for the first time: the key every secret was hashed with so far, derived from the
    // MASTER_KEY the signing keys were stored under (the current one on an empty database).
    let index = 0;
    if (newest) {
      try {
        index = this.masterKey.open(newest.private_key_enc, newest.kid).index;
      } catch {
        throw new Error(
          `MASTER_KEY cannot decrypt the active signing key ${newest.kid}: it is not the MASTER_KEY the signing keys in this database were stored with (give that one as MASTER_KEY_PREVIOUS to rotate)`,
        );
      }
    }
    const key = this.masterKey.derivedHashKey(index);
    await this.store(m, key);
    return key;
  }

  private async store(m: EntityManager, key: Buffer): Promise<void> {
    await m.query(
      `INSERT INTO master_key_material (name, ciphertext) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = now()`,
      [SECRET_HASH, this.masterKey.encrypt(key, SECRET_HASH)],
    );
  }
}
