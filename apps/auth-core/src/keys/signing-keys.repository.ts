import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { SigningKeyEntity } from './signing-key.entity';

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

  /**
   * Makes `key` the active key in one transaction, retiring the one active before (it verifies
   * until `verifyUntil`). Two replicas creating the first key at once: one gets a unique violation.
   * `beforeCommit` runs last in the transaction: if it fails, nothing changes.
   */
  async activate(key: NewSigningKey, verifyUntil: Date, beforeCommit?: () => Promise<void>): Promise<void> {
    const row = { ...key, status: 'active', retiredAt: null, verifyUntil: null } as const;
    await this.ds.transaction(async (m) => {
      await m.update(SigningKeyEntity, { status: 'active' }, { status: 'retired', retiredAt: new Date(), verifyUntil });
      // TypeORM's insert type does not take a jsonb column typed as a record; the row is the entity's.
      await m.insert(SigningKeyEntity, row as QueryDeepPartialEntity<SigningKeyEntity>);
      await beforeCommit?.();
    });
  }
}
