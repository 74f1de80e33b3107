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

  /**
   * Brings the verifyUntil of the retired keys `kids` down (never up) to the latest expiry among the
   * access tokens recorded from a moment before the key was made (`marginSeconds`: tokens record
   * `created_at` to the second, on their replica's clock) to `graceSeconds` after it was retired
   * (the most a replica goes on signing with it), plus `skewSeconds`. Sound once the grace has
   * passed: every token the key signed is recorded, and stays so until it has expired. Once per
   * retirement: `narrowed_at` marks it done, for every replica (the read of the tokens is what costs).
   */
  async narrowRetired(
    kids: string[],
    now: Date,
    t: { graceSeconds: number; marginSeconds: number; skewSeconds: number },
  ): Promise<void> {
    await this.ds.query(
      `UPDATE signing_keys k
          SET verify_until = LEAST(
            k.verify_until,
            GREATEST(
              k.retired_at + $3 * interval '1 second',
              (SELECT max(a.expires_at) FROM access_tokens a
                WHERE a.created_at >= k.created_at - $4 * interval '1 second'
                  AND a.created_at <= k.retired_at + $3 * interval '1 second')
            ) + $5 * interval '1 second'),
              narrowed_at = $2::timestamptz
        WHERE k.kid = ANY($1::varchar[]) AND k.status = 'retired' AND k.narrowed_at IS NULL
          AND k.retired_at <= $2::timestamptz - $3 * interval '1 second'
          AND (k.verify_until IS NULL OR k.verify_until > $2::timestamptz)`,
      [kids, now, t.graceSeconds, t.marginSeconds, t.skewSeconds],
    );
  }

  /**
   * A replica moving off `kid` only at `now`, past the grace (it missed the rotation for that long),
   * may have signed with it after its verifyUntil was brought down, and may still be recording tokens
   * it signed a moment ago: the key counts as retired from `now`, and verifies again for as long as
   * at a rotation (`untilSeconds` from now: the longest any token may live, plus CLOCK_SKEW), until
   * narrowRetired, past the grace, brings that down to the tokens in fact recorded by then.
   */
  async retireAgain(kid: string, now: Date, t: { graceSeconds: number; untilSeconds: number }): Promise<boolean> {
    const res: [unknown, number] = await this.ds.query(
      `UPDATE signing_keys k
          SET retired_at = $2::timestamptz,
              narrowed_at = NULL,
              verify_until = GREATEST(k.verify_until, $2::timestamptz + $4 * interval '1 second')
        WHERE k.kid = $1 AND k.status = 'retired' AND k.verify_until IS NOT NULL
          AND k.retired_at < $2::timestamptz - $3 * interval '1 second'`,
      [kid, now, t.graceSeconds, t.untilSeconds],
    );
    return Number(res[1] ?? 0) > 0;
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
