import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 128 }) clientId!: string;
  @Column({ name: 'secret_hash', type: 'bytea', nullable: true }) secretHash!: Buffer | null;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) roles!: string[];
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tenants!: string[];
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'varchar', length: 512, default: '' }) description!: string;
  @Column({ name: 'max_token_lifetime', type: 'int', nullable: true }) maxTokenLifetime!: number | null;
  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true }) createdBy!: string | null;
  @Column({ type: 'boolean', default: false }) registered!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
