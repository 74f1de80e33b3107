import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 }) kid!: string;
  @Column({ type: 'varchar', length: 16 }) alg!: string;
  @Column({ name: 'public_jwk', type: 'jsonb' }) publicJwk!: Record<string, unknown>;
  /** PKCS#8 PEM of the private key, AES-256-GCM encrypted with a key derived from MASTER_KEY. */
  @Column({ name: 'private_key_enc', type: 'bytea' }) privateKeyEnc!: Buffer;
  @Column({ type: 'varchar', length: 16 }) status!: 'active' | 'retired';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true }) retiredAt!: Date | null;
  /** After this instant no token signed by the key can still be valid: it may leave the JWKS. */
  @Column({ name: 'verify_until', type: 'timestamptz', nullable: true }) verifyUntil!: Date | null;
  /** When verifyUntil was brought down to the tokens the key signed (narrowRetired); cleared by retireAgain. */
  @Column({ name: 'narrowed_at', type: 'timestamptz', nullable: true }) narrowedAt!: Date | null;
}
