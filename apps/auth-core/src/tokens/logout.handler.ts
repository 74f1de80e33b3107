import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LogoutRequestDto, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { RevocationService } from './revocation.service';
import { TokenValidationService } from './token-validation.service';

/** Revokes the presented access token and, for a login session, its whole refresh family. */
@Controller()
export class LogoutHandler {
  constructor(
    private readonly validation: TokenValidationService,
    private readonly revocation: RevocationService,
  ) {}

  @MessagePattern(SUBJECTS.LOGOUT)
  async handle(@Payload() payload: unknown): Promise<{ revoked: number }> {
    const req = validatePayload(LogoutRequestDto, payload);
    const result = await this.validation.validate(req.token);
    if (!result.valid) throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    const { claims } = result;
    const revoked = claims.fam
      ? await this.revocation.revokeFamily(claims.fam, 'logout', claims.sub)
      : await this.revocation.revokeTokens([claims.jti], 'logout', claims.sub);
    return { revoked };
  }
}
