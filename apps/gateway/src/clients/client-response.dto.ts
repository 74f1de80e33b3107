import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiKeyView, ClientView, ClientWithSecret, CreatedApiKey } from '@portcullis/contracts';
import { PageOf } from '../docs/page-of';

/** Reply shapes of the client and API-key routes, for the OpenAPI document; each implements its contract. */
export class ClientViewDto implements ClientView {
  clientId!: string;
  roles!: string[];
  tenants!: string[];
  enabled!: boolean;
  description!: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Seconds; null: only TOKEN_MAX_TTL applies' })
  maxTokenLifetime!: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'User or client id that created it; null when self-registered or built in',
  })
  createdBy!: string | null;

  @ApiProperty({ description: 'Self-registered' })
  registered!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

const SECRET = 'The client secret (`pcl_cs_…`): in this reply only';

export class ClientWithSecretDto extends ClientViewDto implements ClientWithSecret {
  @ApiProperty({ description: SECRET })
  client_secret!: string;
}

/** PATCH answers the client, with the new secret when one was asked for (`rotateSecret`). */
export class UpdatedClientDto extends ClientViewDto implements Partial<ClientWithSecret> {
  @ApiPropertyOptional({ description: SECRET })
  client_secret?: string;
}

/** The role routes answer the client with how many of its tokens were revoked (`revoke_tokens`). */
export class ClientRolesDto extends ClientViewDto {
  @ApiProperty({ description: 'Tokens revoked; 0 unless revoke_tokens=true' })
  revokedTokens!: number;
}

export class ClientPageDto extends PageOf(ClientViewDto) {}

export class ApiKeyViewDto implements ApiKeyView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  name!: string;
  clientId!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: never expires' })
  expiresAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt!: string | null;

  @ApiProperty({ description: "The key's own, or the client's current ones when it follows the client" })
  permissions!: string[];

  tenants!: string[];

  @ApiProperty({ description: 'Created without permissions or tenants: it follows the client' })
  followsClient!: boolean;
}

export class CreatedApiKeyDto extends ApiKeyViewDto implements CreatedApiKey {
  @ApiProperty({ description: 'The key (`pcl_key_…`): in this reply only' })
  apiKey!: string;
}

export class ApiKeyPageDto extends PageOf(ApiKeyViewDto) {}
