import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { AccessTokenClaims, PortcullisError, SUBJECTS, ValidateTokenReply } from '@portcullis/contracts';
import { Strategy } from 'passport-http-bearer';
import { CoreClientService } from '../core/core-client.service';

export interface AuthenticatedPrincipal {
  token: string;
  claims: AccessTokenClaims;
}

/**
 * Bearer authentication for the native API. The gateway re-implements no rule: every token is
 * judged by auth-core's `auth.v1.token.validate`.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly core: CoreClientService) {
    super({ passReqToCallback: true });
  }

  async validate(req: { ip?: string; id?: string }, token: string): Promise<AuthenticatedPrincipal> {
    const reply = await this.core.request<ValidateTokenReply>(
      SUBJECTS.TOKEN_VALIDATE,
      { token, ...(req.ip ? { clientIp: req.ip } : {}) },
      req.id ? String(req.id) : undefined,
    );
    if (!reply.valid) throw new PortcullisError(reply.error.code, reply.error.message);
    return { token, claims: reply.claims };
  }
}
