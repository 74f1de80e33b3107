import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuditEvent, ListAuditRequest, Page, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { ActorService } from '../tokens/actor.service';
import { AuditRepository } from './audit.repository';

/** GET /audit: newest first, keyset-paged on (created_at, id). */
@Controller()
export class ListAuditHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly audits: AuditRepository,
  ) {}

  @MessagePattern(SUBJECTS.AUDIT_LIST)
  async handle(@Payload() payload: unknown): Promise<Page<AuditEvent>> {
    const req = validatePayload(ListAuditRequest, payload);
    await this.actors.authenticate(req.auth, 'audit:read');
    return this.audits.list(req, req.limit ?? 50, req.cursor);
  }
}
