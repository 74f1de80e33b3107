import { ApiProperty } from '@nestjs/swagger';
import { RotatedKeyReply, SIGNING_ALGORITHMS, SigningKeyAlgorithm, SigningKeyView } from '@portcullis/contracts';
import { PageOf } from '../docs/page-of';

/** A signing key's public data (never a private half), as `GET /keys` lists it. */
export class SigningKeyViewDto implements SigningKeyView {
  @ApiProperty({ description: 'The JWT header `kid` (the key thumbprint)' })
  kid!: string;

  @ApiProperty({ example: 'ES256' })
  alg!: string;

  @ApiProperty({ enum: ['active', 'retired'] })
  status!: 'active' | 'retired';

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  retiredAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'A retired key verifies tokens until then (its last token has expired)',
  })
  verifyUntil!: string | null;
}

export class SigningKeyPageDto extends PageOf(SigningKeyViewDto) {}

export class RotatedKeyDto implements RotatedKeyReply {
  @ApiProperty({ description: 'The new active key' })
  kid!: string;

  @ApiProperty({ enum: SIGNING_ALGORITHMS })
  alg!: SigningKeyAlgorithm;
}
