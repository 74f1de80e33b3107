import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuditEvent, ListAuditRequest, Page, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor, isTimestamp, isUuid } from '../database/keyset-cursor';
import { ActorService } from '../tokens/actor.service';

interface Row {
  id: string;
  type: string;
  actor: string | null;
  subject: string | null;
  success: boolean;
  data: Record<string, unknown>;
  created_at: Date;
}

/** GET /audit: newest first, keyset-paged on (created_at, id). */
@Controller()
export class ListAuditHandler {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly actors: ActorService,
  ) {}

  @MessagePattern(SUBJECTS.AUDIT_LIST)
  async handle(@Payload() payload: unknown): Promise<Page<AuditEvent>> {
    const req = validatePayload(ListAuditRequest, payload);
    await this.actors.authenticate(req.auth, 'audit:read');
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    if (req.type) where.push(req.type.endsWith('.') ? `type LIKE ${p(req.type + '%')}` : `type = ${p(req.type)}`);
    if (req.actor) where.push(`actor = ${p(req.actor)}`);
    if (req.subject) where.push(`subject = ${p(req.subject)}`);
    if (req.success !== undefined) where.push(`success = ${p(req.success)}`);
    if (req.since) where.push(`created_at >= ${p(req.since)}::timestamptz`);
    if (req.cursor) {
      const [ts, id] = decodeCursor(req.cursor, [isTimestamp, isUuid]);
      where.push(`(created_at, id) < (${p(ts)}::timestamptz, ${p(id)}::uuid)`);
    }
    const limit = req.limit ?? 50;
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
