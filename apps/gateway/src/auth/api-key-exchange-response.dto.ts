import { ApiProperty } from '@nestjs/swagger';
import { TokenReply } from '@portcullis/contracts';

/** The token under the names every token reply uses (SPEC §4). */
class ExchangedTokenDto implements Omit<TokenReply, 'token_type'> {
  access_token!: string;

  // A string, not the literal: the handler builds it in a plain object literal.
  @ApiProperty({ enum: ['Bearer'] })
  token_type!: string;

  @ApiProperty({ description: 'Seconds' })
  expires_in!: number;

  @ApiProperty({ description: "The client's roles, which the token carries" })
  roles!: string[];

  @ApiProperty({ format: 'uuid' })
  tid!: string;
}

export class ExchangedTokenDataDto extends ExchangedTokenDto {
  @ApiProperty({ description: 'The same as access_token (the name older clients of this route read)' })
  token!: string;
}

/** `POST /api/v1/auth`: the envelope older clients of this route expect, and the token beside it. */
export class ApiKeyExchangeReplyDto extends ExchangedTokenDto {
  @ApiProperty({ example: 200 })
  statusCode!: number;

  @ApiProperty({ example: 'OK' })
  status!: string;

  @ApiProperty({ example: 'Success' })
  message!: string;

  data!: ExchangedTokenDataDto;
}
