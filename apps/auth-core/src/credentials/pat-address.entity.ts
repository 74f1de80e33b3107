import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One address a personal access token has been used from (first use only). */
@Entity({ name: 'pat_addresses' })
export class PatAddressEntity {
  @PrimaryColumn({ name: 'pat_id', type: 'uuid' }) patId!: string;
  @PrimaryColumn({ type: 'varchar', length: 64 }) ip!: string;
  @Column({ name: 'first_seen_at', type: 'timestamptz' }) firstSeenAt!: Date;
}
