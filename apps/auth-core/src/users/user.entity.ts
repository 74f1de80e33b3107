import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 128 }) username!: string;
  /** Lower-cased username; the unique index lives here so usernames are case-insensitive. */
  @Column({ name: 'username_normalized', type: 'varchar', length: 128 }) usernameNormalized!: string;
  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true }) passwordHash!: string | null;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) roles!: string[];
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tenants!: string[];
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'varchar', length: 16, default: 'local' }) source!: 'local' | 'oidc';
  /** `iss#sub` of a user provisioned from an identity provider; null for local users. */
  @Column({ name: 'external_subject', type: 'varchar', length: 1024, nullable: true }) externalSubject!: string | null;
  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true }) passwordChangedAt!: Date | null;
  @Column({ name: 'failed_logins', type: 'int', default: 0 }) failedLogins!: number;
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true }) lockedUntil!: Date | null;
  @Column({ name: 'last_failed_login_at', type: 'timestamptz', nullable: true }) lastFailedLoginAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
