import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LogoutRequestDto, MeReply, PortcullisError, SUBJECTS, validatePayload } from '@portcullis/contracts';
import { toUserView } from '../users/user-view';
import { UsersRepository } from '../users/users.repository';
import { TokenValidationService, unlessUnavailable } from './token-validation.service';
import { userIdOf } from './token-subject';

/** Token data of the presented token (SPEC §4 `/auth/me`). */
@Controller()
export class MeHandler {
  constructor(
    private readonly validation: TokenValidationService,
    private readonly users: UsersRepository,
  ) {}

  @MessagePattern(SUBJECTS.AUTH_ME)
  async handle(@Payload() payload: unknown): Promise<MeReply> {
    const req = validatePayload(LogoutRequestDto, payload);
    const result = unlessUnavailable(await this.validation.validate(req.token));
    if (!result.valid) throw new PortcullisError('UNAUTHENTICATED', result.error.message);
    const c = result.claims;
    const userId = userIdOf(c);
    const user = userId ? await this.users.findById(userId) : null;
    return {
      tid: c.jti,
      cid: c.cid,
      rcid: c.rcid,
      r: c.roles,
      cts: new Date(c.iat * 1000).toISOString(),
      ets: new Date(c.exp * 1000).toISOString(),
      typ: c.typ,
      revoked: false,
      sub: c.sub,
      username: user?.username ?? null,
      tenants: c.tenants,
      ...(c.perms ? { perms: c.perms } : {}),
      expiresIn: Math.max(0, c.exp - Math.floor(Date.now() / 1000)),
      user: user ? toUserView(user) : null,
      expiry: new Date(c.exp * 1000).toISOString(),
    };
  }
}
