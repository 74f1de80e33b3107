import { IsIn, IsOptional } from 'class-validator';
import { AuthenticatedRequestDto } from './tokens.dto';

/** The algorithms a signing key may have (libs/jwt's allow-list; contracts cannot import it). */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type SigningKeyAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The body of `POST /keys/rotate`: without `alg`, the new key has `SIGNING_ALGORITHM`'s. */
export class RotateKeyBodyDto {
  @IsOptional()
  @IsIn(SIGNING_ALGORITHMS, { message: `alg must be one of ${SIGNING_ALGORITHMS.join(', ')}` })
  alg?: SigningKeyAlgorithm;
}

export class RotateKeyRequestDto extends AuthenticatedRequestDto {
  @IsOptional()
  @IsIn(SIGNING_ALGORITHMS, { message: `alg must be one of ${SIGNING_ALGORITHMS.join(', ')}` })
  alg?: SigningKeyAlgorithm;
}

export interface RotatedKeyReply {
  kid: string;
  alg: SigningKeyAlgorithm;
}
