import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { SigningKeyEntity } from './signing-key.entity';

/** Serialises key changes across replicas (see `activate`, MasterKeyRotationService). */
export const ROTATION_LOCK_ID = 0x70636c05;

export type NewSigningKey = Pick<SigningKeyEntity, 'kid' | 'alg' | 'publicJwk' | 'privateKeyEnc'>;

/** Persistence of the signing keys (private halves encrypted by the caller). */
@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Every signing key, active or retired, newest first. */
  list(): Promise<SigningKeyEntity[]> {
    return this.ds.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
  }

  /** The keys that verify now: the active one and the retired ones whose tokens may still be valid, newest first. */
  listVerifying(): Promise<SigningKeyEntity[]> {
    return this.ds.getRepository(SigningKeyEntity).find({
      where: [
        { status: 'active' },
        { verifyUntil: MoreThan(new Date()) },
        { status: 'retired', verifyUntil: IsNull() },
      ],
      order: { createdAt: 'DESC' },
    });
  }

  /** Swaps a key's encrypted private half if it is still `stored` (another replica may have swapped it first). */
  async replacePrivateKey(kid: string, stored: Buffer, replacement: Buffer): Promise<boolean> {
    const res = await this.ds
      .createQueryBuilder()
      .update(SigningKeyEntity)
      .set({ privateKeyEnc: replacement })
      .where('kid = :kid AND private_key_enc = :stored', { kid, stored })
      .execute();
    return (res.affected ?? 0) > 0;
  }

  /**
   * Makes `key` the active key in one transaction, retiring the one active before (it verifies
   * until `verifyUntil`); with `firstOnly` (a replica's first start) nothing changes when another
   * replica made a key meanwhile, and the answer is false. `beforeCommit` runs last in the
   * transaction: if it fails, nothing changes. Key changes wait for each other: without the lock, a
   * second rotation's UPDATE waits on the row the first retires, finds it retired, never sees the
   * first's new key, and its insert breaks the one-active-key index (500).
   */
  async activate(
    key: NewSigningKey,
    verifyUntil: Date,
    beforeCommit?: () => Promise<void>,
    firstOnly = false,
  ): Promise<boolean> {
    const row = { ...key, status: 'active', retiredAt: null, verifyUntil: null } as const;
    return this.ds.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK_ID]);
      if (firstOnly && (await m.exists(SigningKeyEntity, { where: { status: 'active' } }))) return false;
      await m.update(SigningKeyEntity, { status: 'active' }, { status: 'retired', retiredAt: new Date(), verifyUntil });
      // TypeORM's insert type does not take a jsonb column typed as a record; the row is the entity's.
      await m.insert(SigningKeyEntity, row as QueryDeepPartialEntity<SigningKeyEntity>);
      await beforeCommit?.();
      return true;
    });
  }
}
