import { KeyRingService } from './key-ring.service';
import { MasterKey } from './master-key';
import { SigningKeysRepository } from './signing-keys.repository';
import { AuthCoreConfig } from '../config/config';
import { EventBusService } from '../events/event-bus.service';

const OLD = 'o'.repeat(40);
const NEW = 'n'.repeat(40);

const config = {
  SIGNING_ALGORITHM: 'ES256',
  ACCESS_TOKEN_TTL: 900,
  EXTENDED_TOKEN_MAX_TTL: 900,
  TOKEN_MAX_TTL: 900,
  API_KEY_TOKEN_TTL: 900,
  SYSTEM_TOKEN_TTL: 900,
  CLOCK_SKEW: 30,
  KEY_RETIREMENT_GRACE_SECONDS: 60,
} as unknown as AuthCoreConfig;

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

/**
 * A replica hears of a rotation past the grace (retireAgain extends the old key and announces it):
 * it moves to the new key at once, whether or not the announcement gets through, since every token
 * it signs with the old key meanwhile may fall outside what the next narrowing covers.
 */
describe('KeyRingService hearing of a rotation late', () => {
  it('signs with the new key before its announcement that the old one verifies again has gone out', async () => {
    const rows: Row[] = [];
    const announced: unknown[] = [];
    const repo = {
      activate: async (key: Omit<Row, 'status' | 'verifyUntil'>) => {
        rows.forEach((r) => (r.status = 'retired'));
        rows.unshift({ ...key, status: 'active', verifyUntil: null });
        return true;
      },
      listVerifying: () => Promise.resolve(rows.map((r) => ({ ...r }))),
      replacePrivateKey: () => Promise.resolve(false),
      narrowRetired: () => Promise.resolve(),
      retireAgain: () => Promise.resolve(true),
    } as unknown as SigningKeysRepository;
    const stalled = {
      // A JetStream that never answers.
      publish: (subject: string, event: unknown) => {
        announced.push(event);
        return new Promise(() => undefined);
      },
    } as unknown as EventBusService;
    const late = new KeyRingService(repo, config, new MasterKey(OLD), stalled);
    const oldKid = await late.rotate('ES256');
    announced.length = 0;
    // Another replica rotates; this one reloads only now.
    const other = new KeyRingService(repo, config, new MasterKey(OLD), stalled);
    const newKid = await other.rotate('ES256');
    announced.length = 0;
    const loaded = (late as unknown as { load(): Promise<void> }).load();
    await expect(
      Promise.race([loaded.then(() => 'loaded'), new Promise((r) => setTimeout(r, 500, 'stuck'))]),
    ).resolves.toBe('loaded');
    expect(late.activeKey().kid).toBe(newKid);
    expect(announced).toEqual([expect.objectContaining({ kid: oldKid })]);
  });
});
