import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { MasterKey } from '../keys/master-key';
import { RefreshTokenEntity } from './refresh-token.entity';

@Injectable()
export class RefreshTokensRepository {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly masterKey: MasterKey,
  ) {}

  /** A refresh token that can still be used: not rotated, not revoked, not expired. */
  findActive(token: string): Promise<RefreshTokenEntity | null> {
    return this.ds.getRepository(RefreshTokenEntity).findOne({
      where: {
        tokenHash: this.masterKey.hashSecret(token),
        usedAt: IsNull(),
        revoked: false,
        expiresAt: MoreThan(new Date()),
      },
    });
  }
}
