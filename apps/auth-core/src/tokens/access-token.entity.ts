import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The registry of issued access tokens (never the token itself). */
@Entity({ name: 'access_tokens' })
export class AccessTokenEntity {
  @PrimaryColumn({ type: 'uuid' }) tid!: string;
  @Column({ type: 'varchar', length: 255 }) sub!: string;
  @Column({ type: 'varchar', length: 128 }) cid!: string;
  @Column({ type: 'varchar', length: 128 }) rcid!: string;
  @Column({ type: 'varchar', length: 16 }) typ!: string;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) roles!: string[];
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tenants!: string[];
  @Column({ name: 'family_id', type: 'uuid', nullable: true }) familyId!: string | null;
  @Column({ name: 'user_id', type: 'uuid', nullable: true }) userId!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ type: 'boolean', default: false }) revoked!: boolean;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}
