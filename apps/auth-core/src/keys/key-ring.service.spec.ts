import { KeyRingService } from './key-ring.service';
import { MasterKey } from './master-key';
import { SigningKeysRepository } from './signing-keys.repository';
import { AuthCoreConfig } from '../config/config';
import { EventBusService } from '../events/event-bus.service';

const OLD = 'o'.repeat(40);
const NEW = 'n'.repeat(40);

interface Row {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeyEnc: Buffer;
  status: string;
  verifyUntil: Date | null;
}

/**
 * A replica still on the old MASTER_KEY rotates during a rolling MASTER_KEY change, and a replica on
 * the new key hears of it and stores the key again under the new key before the rotating replica
 * reads its own key back (the rotation's answer was a 500: "MASTER_KEY cannot decrypt").
 */
describe('KeyRingService during a rolling MASTER_KEY change', () => {
  const config = {
    SIGNING_ALGORITHM: 'ES256',
    ACCESS_TOKEN_TTL: 900,
    EXTENDED_TOKEN_MAX_TTL: 900,
    TOKEN_MAX_TTL: 900,
    API_KEY_TOKEN_TTL: 900,
    SYSTEM_TOKEN_TTL: 900,
    CLOCK_SKEW: 30,
  } as unknown as AuthCoreConfig;
  const bus = { publish: () => Promise.resolve() } as unknown as EventBusService;

  function ringOnOldKey(rows: Row[], restoreUnderNew: boolean): KeyRingService {
    const repo = {
      activate: async (key: Omit<Row, 'status' | 'verifyUntil'>, _until: Date, beforeCommit?: () => Promise<void>) => {
        await beforeCommit?.();
        rows.forEach((r) => (r.status = 'retired'));
        rows.unshift({ ...key, status: 'active', verifyUntil: null });
        if (restoreUnderNew) {
          // What the replica on the new key does once it hears of the rotation.
          const plain = new MasterKey(NEW, [OLD]).open(rows[0].privateKeyEnc, rows[0].kid).plain;
          rows[0].privateKeyEnc = new MasterKey(NEW).encrypt(plain, rows[0].kid);
        }
        return true;
      },
      listVerifying: () => Promise.resolve(rows.map((r) => ({ ...r }))),
      replacePrivateKey: () => Promise.resolve(false),
      narrowRetired: () => Promise.resolve(),
      retireAgain: () => Promise.resolve(false),
    } as unknown as SigningKeysRepository;
    return new KeyRingService(repo, config, new MasterKey(OLD), bus);
  }

  it('the rotating replica signs with the key it made, though it is now stored under the new key', async () => {
    const ring = ringOnOldKey([], true);
    const kid = await ring.rotate('ES256');
    expect(ring.activeKey().kid).toBe(kid);
    expect(ring.jwks().keys.map((k) => k.kid)).toContain(kid);
  });

  it('a key it neither made nor holds, stored under a MASTER_KEY it lacks, still stops it, naming MASTER_KEY', async () => {
    const rows: Row[] = [];
    await ringOnOldKey(rows, true).rotate('ES256');
    const other = ringOnOldKey(rows, false);
    await expect((other as unknown as { load(): Promise<void> }).load()).rejects.toThrow(
      /MASTER_KEY cannot decrypt the active signing key/,
    );
  });
});
