import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { OidcConfigReply, SUBJECTS } from '@portcullis/contracts';
import { OidcProvidersService } from './oidc-providers.service';

/**
 * What a sign-in page needs to send people to their IdP (`auth.v1.oidc.config`). Built field by
 * field so nothing added to the provider configuration later can leak through.
 */
@Controller()
export class OidcConfigHandler {
  constructor(private readonly providers: OidcProvidersService) {}

  @MessagePattern(SUBJECTS.OIDC_CONFIG)
  handle(): OidcConfigReply {
    return this.providers.providers.map((p) => ({
      name: p.name,
      baseUrl: p.baseUrl,
      clientId: p.clientId,
      issuer: p.issuer,
      audience: p.audience,
    }));
  }
}
