import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity';

/** Reading signing keys for their listing; KeyRingService creates, rotates and loads them itself. */
@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Every signing key, active or retired, newest first. */
  list(): Promise<SigningKeyEntity[]> {
    return this.ds.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
  }
}
