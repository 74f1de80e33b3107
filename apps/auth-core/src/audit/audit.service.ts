import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuditEvent, EVENTS } from '@portcullis/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { EventBusService } from '../events/event-bus.service';
import { countAuditEvent } from '../metrics/metrics';
import { AuditEventEntity } from './audit-event.entity';

export interface AuditInput {
  type: string;
  actor?: string | null;
  subject?: string | null;
  success: boolean;
  data?: Record<string, unknown>;
}

/** Audit types not also written to the log: one per token issued or refreshed. */
const QUIET = new Set(['token.issued', 'token.refreshed']);

/** Audit trail: a row in PostgreSQL (inside the caller's transaction when given) and an event. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBusService,
  ) {}

  async record(input: AuditInput, manager: EntityManager = this.ds.manager): Promise<void> {
    const { row, event } = this.prepare(input);
    await manager.insert(AuditEventEntity, row as never);
    this.announce(event);
    // An operator reading the logs sees every change of users, clients, credentials and keys, and
    // every failure, without the audit API; tokens issued and refreshed are too many for a line each.
    if (!QUIET.has(input.type))
      this.logger.log(
        `${input.type} actor=${input.actor ?? '-'} subject=${input.subject ?? '-'}${input.success ? '' : ' (failed)'}`,
      );
  }

  /** The row to store and the event to announce once it is stored (for callers that batch rows). */
  prepare(input: AuditInput): { row: AuditEventEntity; event: AuditEvent } {
    const createdAt = new Date();
    const row: AuditEventEntity = {
      id: randomUUID(),
      type: input.type,
      actor: input.actor ?? null,
      subject: input.subject ?? null,
      success: input.success,
      data: input.data ?? {},
      createdAt,
    };
    const { createdAt: _, ...fields } = row;
    return { row, event: { ...fields, at: createdAt.toISOString() } };
  }

  announce(event: AuditEvent): void {
    countAuditEvent(event.type, event.success);
    // The row is the record; the event is a notification and must not fail the request.
    this.bus
      .notify(EVENTS.AUDIT, event)
      .catch((err: Error) => this.logger.warn(`audit event not published: ${err.message}`));
  }
}
