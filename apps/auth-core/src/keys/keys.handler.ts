import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  AuthenticatedRequestDto,
  RotatedKeyReply,
  RotateKeyRequestDto,
  SigningKeyView,
  SUBJECTS,
  validatePayload,
} from '@portcullis/contracts';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { AuditService } from '../audit/audit.service';
import { ActorService } from '../tokens/actor.service';
import { KeyRingService } from './key-ring.service';
import { SigningKeysRepository } from './signing-keys.repository';

/** Signing keys: list (never a private half) and rotate (`keys:admin`). */
@Controller()
export class KeysHandler {
  constructor(
    private readonly actors: ActorService,
    private readonly keys: KeyRingService,
    private readonly audit: AuditService,
    private readonly signingKeys: SigningKeysRepository,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
  ) {}

  @MessagePattern(SUBJECTS.KEYS_LIST)
  async list(@Payload() payload: unknown): Promise<{ items: SigningKeyView[]; nextCursor: null }> {
    const req = validatePayload(AuthenticatedRequestDto, payload);
    await this.actors.authenticate(req.auth, 'keys:admin');
    const rows = await this.signingKeys.list();
    return {
      items: rows.map((k) => ({
        kid: k.kid,
        alg: k.alg,
        status: k.status,
        createdAt: k.createdAt.toISOString(),
        retiredAt: k.retiredAt?.toISOString() ?? null,
        verifyUntil: k.verifyUntil?.toISOString() ?? null,
      })),
      nextCursor: null,
    };
  }

  /** The old key keeps verifying until every token it signed has expired. */
  @MessagePattern(SUBJECTS.KEYS_ROTATE)
  async rotate(@Payload() payload: unknown): Promise<RotatedKeyReply> {
    const req = validatePayload(RotateKeyRequestDto, payload);
    const actor = await this.actors.authenticate(req.auth, 'keys:admin');
    const alg = req.alg ?? this.config.SIGNING_ALGORITHM;
    const kid = await this.keys.rotate(alg);
    await this.audit.record({ type: 'keys.rotated', actor: actor.claims.sub, success: true, data: { kid, alg } });
    return { kid, alg };
  }
}
