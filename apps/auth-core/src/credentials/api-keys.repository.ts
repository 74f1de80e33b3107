import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Page } from '@portcullis/contracts';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { insertUnlessTaken } from '../database/insert-unless-taken';
import { newestFirstPage } from '../database/keyset-cursor';
import { ApiKeyEntity } from './api-key.entity';

export type NewApiKey = Omit<ApiKeyEntity, 'id' | 'deletedAt' | 'lastUsedAt' | 'lastUsedIp'>;

/** Persistence of client API keys; entities stay inside auth-core. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * The new key, or null when its client already holds a live one of that name. Run it in the
   * transaction that audits the creation, so neither is written without the other.
   */
  insertNamed(key: NewApiKey, manager: EntityManager): Promise<ApiKeyEntity | null> {
    return insertUnlessTaken(manager, ApiKeyEntity, key);
  }

  /** A client's live keys, newest first, keyset-paged on (created_at, id) like the PAT listing. */
  async list(clientId: string, limit: number, cursor?: string): Promise<Page<ApiKeyEntity>> {
    const qb = this.ds
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.client_id = :clientId', { clientId });
    return newestFirstPage(qb, limit, cursor);
  }

  /** The client's key with this id, deleted or not. */
  findOfClient(id: string, clientId: string): Promise<ApiKeyEntity | null> {
    return this.ds.getRepository(ApiKeyEntity).findOne({ where: { id, clientId }, withDeleted: true });
  }

  /** The live key with this value's hash. */
  findByHash(keyHash: Buffer): Promise<ApiKeyEntity | null> {
    return this.ds.getRepository(ApiKeyEntity).findOne({ where: { keyHash } });
  }

  /**
   * Records a use (when, and from where when the address is known) of a key still live, and holds
   * its row until the transaction ends: false when it was deleted meanwhile. A delete running at
   * once waits for the bearer to be written and then revokes it with the key's others.
   */
  async markUsedIfLive(id: string, ip: string | undefined, manager: EntityManager): Promise<boolean> {
    const r = await manager.update(
      ApiKeyEntity,
      { id, deletedAt: IsNull() },
      { lastUsedAt: new Date(), ...(ip ? { lastUsedIp: ip } : {}) },
    );
    return !!r.affected;
  }

  /**
   * Whether the key `id` is not deleted, its row shared until `manager`'s transaction ends; undefined
   * when no key has this id. Deleting a key marks its row before revoking its bearers' line.
   */
  async lineLiveLocked(id: string, manager: EntityManager): Promise<boolean | undefined> {
    const [row] = (await manager.query(`SELECT deleted_at IS NULL AS live FROM api_keys WHERE id = $1 FOR SHARE`, [
      id,
    ])) as Array<{ live: boolean }>;
    return row?.live;
  }

  /** Marks a live key deleted; false when a concurrent delete got there first. */
  async softDeleteLive(id: string, manager: EntityManager): Promise<boolean> {
    return !!(await manager.softDelete(ApiKeyEntity, { id, deletedAt: IsNull() })).affected;
  }
}
