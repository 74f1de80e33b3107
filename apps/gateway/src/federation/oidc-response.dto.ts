import { ApiProperty } from '@nestjs/swagger';
import { OidcProviderView } from '@portcullis/contracts';

/** What a sign-in UI needs to start a login at a provider; nothing secret, no role mapping. */
export class OidcProviderDto implements OidcProviderView {
  @ApiProperty({ description: 'Pass as `provider` to POST /auth/oidc/login' })
  name!: string;

  baseUrl!: string;
  clientId!: string;
  issuer!: string;
  audience!: string;
}
