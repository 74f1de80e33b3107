import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CLIENT_ID_PATTERN, Page, PortcullisError } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, encodeCursor } from '../database/keyset-cursor';
import { ClientEntity } from './client.entity';

const CLIENT_KEY = [(v: string) => CLIENT_ID_PATTERN.test(v)];

@Injectable()
export class ClientsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Ids of the disabled clients. */
  async disabledIds(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.ds.query(`SELECT client_id AS id FROM clients WHERE NOT enabled`);
    return rows.map((r) => r.id);
  }

  /** Those of `ids` that are clients enabled now (ids no client has are left out). */
  async enabledAmong(ids: string[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.ds.query(
      `SELECT client_id AS id FROM clients WHERE enabled AND client_id = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => r.id);
  }

  find(clientId: string, manager: EntityManager = this.ds.manager): Promise<ClientEntity | null> {
    return manager.getRepository(ClientEntity).findOne({ where: { clientId } });
  }

  async get(clientId: string, manager?: EntityManager): Promise<ClientEntity> {
    const c = await this.find(clientId, manager);
    if (!c) throw new PortcullisError('NOT_FOUND', `Client ${clientId} not found`);
    return c;
  }

  /**
   * The client, its row locked until `manager`'s transaction ends. `pessimistic_write` for a change
   * computed from what it holds now (a role added or removed), which two at once would otherwise
   * both compute from the same read, the second write losing the first; `pessimistic_read` for a
   * row that refers to it (an API key), so a delete running at once either waits for that row and
   * takes it along (ON DELETE CASCADE) or has already gone (404), never a foreign-key failure (500).
   */
  async getLocked(
    clientId: string,
    manager: EntityManager,
    mode: 'pessimistic_write' | 'pessimistic_read',
  ): Promise<ClientEntity> {
    const c = await this.findLocked(clientId, manager, mode);
    if (!c) throw new PortcullisError('NOT_FOUND', `Client ${clientId} not found`);
    return c;
  }

  /**
   * As `getLocked`, for a change made by a client (`callerClientId`; null for a user): that client's
   * row is shared as well, the two rows taken in one order (by id) whichever is the target. Two clients
   * changing each other at once then queue: each holding its target and then its own token
   * (requireStillLive) met the other's sweep the other way round, a deadlock (one of them a 500).
   */
  async getLockedFor(
    clientId: string,
    callerClientId: string | null,
    manager: EntityManager,
    mode: 'pessimistic_write' | 'pessimistic_read',
  ): Promise<ClientEntity> {
    const caller = callerClientId !== clientId ? callerClientId : null;
    if (caller !== null && caller < clientId) await this.findLocked(caller, manager, 'pessimistic_read');
    const target = await this.getLocked(clientId, manager, mode);
    if (caller !== null && caller > clientId) await this.findLocked(caller, manager, 'pessimistic_read');
    return target;
  }

  /** As `getLocked`, null when there is no such client. */
  findLocked(
    clientId: string,
    manager: EntityManager,
    mode: 'pessimistic_write' | 'pessimistic_read',
  ): Promise<ClientEntity | null> {
    return manager.getRepository(ClientEntity).findOne({ where: { clientId }, lock: { mode } });
  }

  async insert(values: Partial<ClientEntity>, manager: EntityManager = this.ds.manager): Promise<ClientEntity> {
    try {
      await manager.insert(ClientEntity, values);
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw new PortcullisError('CONFLICT', `Client ${values.clientId} already exists`);
      throw err;
    }
    return this.get(values.clientId!, manager);
  }

  async update(
    clientId: string,
    values: Partial<ClientEntity>,
    manager: EntityManager = this.ds.manager,
  ): Promise<ClientEntity> {
    await manager.update(ClientEntity, { clientId }, { ...values, updatedAt: new Date() });
    return this.get(clientId, manager);
  }

  async delete(clientId: string, manager: EntityManager = this.ds.manager): Promise<void> {
    await manager.delete(ClientEntity, { clientId });
  }

  /** Keyset paging on client_id. */
  async list(roles: string[] | undefined, limit = 50, cursor?: string): Promise<Page<ClientEntity>> {
    const qb = this.ds
      .getRepository(ClientEntity)
      .createQueryBuilder('c')
      .orderBy('c.client_id', 'ASC')
      .limit(limit + 1);
    if (roles?.length) qb.andWhere('c.roles @> :roles::text[]', { roles });
    if (cursor) qb.andWhere('c.client_id > :after', { after: decodeCursor(cursor, CLIENT_KEY)[0] });
    const rows = await qb.getMany();
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return { items, nextCursor: more ? encodeCursor([items[items.length - 1].clientId]) : null };
  }
}
