import { Column, DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'client_id', type: 'varchar', length: 128 }) clientId!: string;
  @Column({ type: 'varchar', length: 128 }) name!: string;
  @Column({ name: 'key_hash', type: 'bytea' }) keyHash!: Buffer;
  @Column({ type: 'text', array: true, nullable: true }) permissions!: string[] | null;
  @Column({ type: 'text', array: true, nullable: true }) tenants!: string[] | null;
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true }) expiresAt!: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
  @Column({ name: 'last_used_ip', type: 'varchar', length: 64, nullable: true }) lastUsedIp!: string | null;
  /** Set by a delete; TypeORM's finds skip such rows unless asked (`withDeleted`). */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
