import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuditEvent, Page } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor, isTimestamp, isUuid } from '../database/keyset-cursor';

export interface AuditFilter {
  /** An exact event type, or a prefix when it ends in `.`. */
  type?: string;
  actor?: string;
  subject?: string;
  success?: boolean;
  since?: string;
}

type Row = Omit<AuditEvent, 'at'> & { created_at: Date };

/** Reading the audit trail; rows are written by AuditService, inside the caller's transaction. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Events, newest first, keyset-paged on (created_at, id). */
  async list(filter: AuditFilter, limit: number, cursor?: string): Promise<Page<AuditEvent>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    const { type, actor, subject, success, since } = filter;
    if (type) where.push(type.endsWith('.') ? `type LIKE ${p(type + '%')}` : `type = ${p(type)}`);
    if (actor) where.push(`actor = ${p(actor)}`);
    if (subject) where.push(`subject = ${p(subject)}`);
    if (success !== undefined) where.push(`success = ${p(success)}`);
    if (since) where.push(`created_at >= ${p(since)}::timestamptz`);
    if (cursor) {
      const [ts, id] = decodeCursor(cursor, [isTimestamp, isUuid]);
      where.push(`(created_at, id) < (${p(ts)}::timestamptz, ${p(id)}::uuid)`);
    }
    const rows: Row[] = await this.ds.query(
      `SELECT id, type, actor, subject, success, data, created_at FROM audit_events
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        type: r.type,
        actor: r.actor,
        subject: r.subject,
        success: r.success,
        data: r.data,
        at: r.created_at.toISOString(),
      })),
      nextCursor: rows.length > limit ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }
}
