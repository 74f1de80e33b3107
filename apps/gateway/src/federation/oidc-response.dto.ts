import { ApiProperty } from '@nestjs/swagger';
import { OidcProviderView } from '@portcullis/contracts';

/** What a sign-in UI needs to start a login at a provider; never anything secret. */
export class OidcProviderDto implements OidcProviderView {
  @ApiProperty({ description: 'Pass as `provider` to POST /auth/oidc/login' })
  name!: string;

  baseUrl!: string;
  clientId!: string;
  issuer!: string;
  audience!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description: "A value of the provider's roles claim → the Portcullis roles it grants",
  })
  mapRoles!: Record<string, string[]>;
}
