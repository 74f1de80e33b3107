import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'token_hash', type: 'bytea' }) tokenHash!: Buffer;
  @Column({ name: 'family_id', type: 'uuid' }) familyId!: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ type: 'varchar', length: 128 }) cid!: string;
  @Column({ type: 'varchar', length: 128 }) rcid!: string;
  /** The scope the session was granted at sign-in (null: not narrowed); carried to each successor. */
  @Column({ type: 'text', array: true, nullable: true }) scope!: string[] | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  /** When the session ends whatever its refreshes (SESSION_MAX_TTL); carried to each successor. */
  @Column({ name: 'session_expires_at', type: 'timestamptz', nullable: true }) sessionExpiresAt!: Date | null;
  /** Set when rotated; presenting it again afterwards is reuse (RFC 9700). */
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true }) usedAt!: Date | null;
  @Column({ type: 'boolean', default: false }) revoked!: boolean;
}
