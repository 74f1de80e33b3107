import { ApiProperty } from '@nestjs/swagger';
import { CreatedPat, PatView, UserView } from '@portcullis/contracts';
import { PageOf } from '../docs/page-of';

/** Reply shapes of the user routes, for the OpenAPI document; each implements its contract interface. */
export class UserViewDto implements UserView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  username!: string;
  roles!: string[];
  tenants!: string[];
  enabled!: boolean;

  @ApiProperty({ enum: ['local', 'oidc'], description: 'oidc: signed in through an external identity provider' })
  source!: 'local' | 'oidc';

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: never changed' })
  passwordChangedAt!: string | null;

  hasPassword!: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Locked out after failed logins until then',
  })
  lockedUntil!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class UserPageDto extends PageOf(UserViewDto) {}

/** A personal access token as listed: never its value. */
export class PatViewDto implements PatView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  name!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt!: string | null;

  permissions!: string[];
  tenants!: string[];
}

export class CreatedPatDto extends PatViewDto implements CreatedPat {
  @ApiProperty({ description: 'The token (`pcl_pat_…`): in this reply only' })
  token!: string;
}

export class PatPageDto extends PageOf(PatViewDto) {}
