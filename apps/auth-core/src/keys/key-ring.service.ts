import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { EVENTS, KeysRotatedEvent } from '@portcullis/contracts';
import { publicKeyFromJwk, SigningAlgorithm, TokenVerifier, privateKeyFromPem } from '@portcullis/jwt';
import { AUTH_CORE_CONFIG, AuthCoreConfig } from '../config/config';
import { EventBusService } from '../events/event-bus.service';
import { MasterKey } from './master-key';
import { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

export interface ActiveKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

/**
 * The signing keys: one active key signs, every key whose tokens may still be valid verifies.
 * Keys are read from PostgreSQL at start and after a `keys.rotated` event, so the validation
 * hot path only ever touches memory.
 */
@Injectable()
export class KeyRingService {
  private readonly logger = new Logger('KeyRing');
  readonly verifier = new TokenVerifier();
  private active?: ActiveKey;
  /** The last key this replica made: it holds that key's private half whatever it is stored under. */
  private made?: ActiveKey;
  private publicJwks: Array<Record<string, unknown>> = [];
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: SigningKeysRepository,
    @Inject(AUTH_CORE_CONFIG) private readonly config: AuthCoreConfig,
    private readonly masterKey: MasterKey,
    private readonly bus: EventBusService,
  ) {}

  async init(since: Date): Promise<void> {
    await this.load();
    if (!this.active) {
      // Another replica may create the first key at the same moment: then theirs is used.
      await this.createKey(this.config.SIGNING_ALGORITHM, undefined, true);
      await this.load();
    }
    // A lost events stream may have taken a rotation with it: the keys are read again then too.
    this.bus.onNewStream('reloading the signing keys', () => this.load());
    await this.bus.follow<KeysRotatedEvent>(EVENTS.KEYS_ROTATED, since, (e) => {
      void this.bus.runUntilDone('loading the rotated signing keys', () => this.loadUntil(e.kid));
    });
  }

  activeKey(): ActiveKey {
    if (!this.active) throw new Error('no active signing key loaded');
    return this.active;
  }

  isReady(): boolean {
    return !!this.active;
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: this.publicJwks };
  }

  /**
   * Creates a new active key; the old one keeps verifying until its last token has expired. The
   * event is published before the key is committed, so a rotation the other replicas cannot hear
   * of is rolled back (else this replica would sign with a key they refuse as unknown).
   */
  async rotate(alg: SigningAlgorithm = this.config.SIGNING_ALGORITHM): Promise<string> {
    const kid = await this.createKey(alg, (kid) =>
      this.bus.publish(EVENTS.KEYS_ROTATED, { kid, at: new Date().toISOString() } satisfies KeysRotatedEvent),
    );
    await this.load();
    return kid;
  }

  /**
   * The event may arrive a moment before the key it names is committed (milliseconds): read again,
   * soon, until it is in, so that this replica signs with it about as soon as the rotating one does.
   */
  private async loadUntil(kid: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.load();
      // Still missing after a second or so: the rotation was rolled back after all.
      if (this.verifier.hasKid(kid) || attempt === 20) return;
      await new Promise((r) => setTimeout(r, Math.min(5 * attempt, 100)).unref());
    }
  }

  private async createKey(
    alg: SigningAlgorithm,
    announce?: (kid: string) => Promise<void>,
    firstOnly = false,
  ): Promise<string> {
    const { publicKey, privateKey } =
      alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const jwk = (await exportJWK(publicKey)) as Record<string, unknown>;
    const kid = await calculateJwkThumbprint(jwk as never);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const created = await this.keys.activate(
      {
        kid,
        alg,
        publicJwk: { ...jwk, kid, alg, use: 'sig' },
        privateKeyEnc: this.masterKey.encrypt(Buffer.from(pem), kid),
      },
      new Date(Date.now() + this.untilLastTokenSeconds() * 1000),
      announce && (() => announce(kid)),
      firstOnly,
    );
    if (created) {
      this.made = { kid, alg, privateKey };
      this.logger.log(`created signing key ${kid} (${alg})`);
    }
    return kid;
  }

  /** How long a key may have to verify once retired: the longest any kind of token can live, plus CLOCK_SKEW. */
  private untilLastTokenSeconds(): number {
    const maxLifetime = Math.max(
      this.config.ACCESS_TOKEN_TTL,
      this.config.EXTENDED_TOKEN_MAX_TTL,
      this.config.TOKEN_MAX_TTL,
      this.config.API_KEY_TOKEN_TTL,
      this.config.SYSTEM_TOKEN_TTL,
    );
    return maxLifetime + this.config.CLOCK_SKEW;
  }

  private async load(): Promise<void> {
    const before = this.active?.kid;
    let rows = await this.keys.listVerifying();
    // Before the narrowing: a key this replica signed with until now is covered first.
    const after = rows.find((r) => r.status === 'active')?.kid;
    if (before && after && before !== after && (await this.coverLateTokens(before)))
      rows = await this.keys.listVerifying();
    if (await this.narrowRetired(rows)) rows = await this.keys.listVerifying();
    const activeRow = rows.find((r) => r.status === 'active');
    if (activeRow) {
      let opened: { plain: Buffer; index: number } | undefined;
      try {
        opened = this.masterKey.open(activeRow.privateKeyEnc, activeRow.kid);
      } catch {
        // During a rolling MASTER_KEY change a replica on the new key stores the active key again
        // under it, also one this replica (still on the old key) made or already holds: keep it.
        const held = [this.active, this.made].find((k) => k?.kid === activeRow.kid);
        if (!held)
          // AES-GCM's own words ("unable to authenticate data") do not tell an operator what to fix.
          throw new Error(
            `MASTER_KEY cannot decrypt the active signing key ${activeRow.kid}: it is not the MASTER_KEY the signing keys in this database were stored with`,
          );
        this.active = held;
      }
      if (opened) {
        if (opened.index > 0)
          await this.storeUnderCurrentMasterKey(activeRow.kid, activeRow.privateKeyEnc, opened.plain);
        this.active = {
          kid: activeRow.kid,
          alg: activeRow.alg as SigningAlgorithm,
          privateKey: privateKeyFromPem(opened.plain.toString()),
        };
      }
    }
    this.verifier.setKeys(
      rows.map((r) => ({ kid: r.kid, alg: r.alg as SigningAlgorithm, key: publicKeyFromJwk(r.publicJwk) })),
    );
    this.publicJwks = rows.map((r) => r.publicJwk);
    this.prunePastVerifyUntil(rows);
  }

  /**
   * A retired key's verifyUntil, set at the rotation to the longest any token may live (30 days by
   * default, for extended tokens), comes down to when the tokens it signed have in fact expired, so
   * a key that signed only 15-minute tokens leaves the JWKS about as soon as its last one (SPEC §3).
   * Once per retirement, past the grace, by whichever replica comes first (narrowedAt). Failing only
   * keeps the key longer: answers false.
   */
  private async narrowRetired(rows: SigningKeyEntity[]): Promise<boolean> {
    const now = Date.now();
    const due = rows.filter(
      (r) =>
        r.retiredAt && !r.narrowedAt && r.retiredAt.getTime() + this.config.KEY_RETIREMENT_GRACE_SECONDS * 1000 <= now,
    );
    if (!due.length) return false;
    try {
      const skew = this.config.CLOCK_SKEW;
      // Replica clocks may differ by up to CLOCK_SKEW (tokens are judged with it); created_at is whole seconds.
      await this.keys.narrowRetired(
        due.map((r) => r.kid),
        new Date(now),
        { graceSeconds: this.config.KEY_RETIREMENT_GRACE_SECONDS, marginSeconds: skew + 1, skewSeconds: skew },
      );
      return true;
    } catch (err) {
      this.logger.warn(`could not bring down the verifyUntil of retired signing keys: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * This replica signed with `kid` until now. Normally that is milliseconds after the rotation; if it
   * heard of it only past the grace, the key verifies again as at a rotation, for the tokens it
   * signed meanwhile (retireAgain), and every replica and SDK is told: one that has dropped the key
   * from its JWKS would go on refusing them. The event names the key that verifies again, which is
   * what its listeners read it for (they load the keys until they hold that kid).
   */
  private async coverLateTokens(kid: string): Promise<boolean> {
    let late: boolean;
    try {
      late = await this.keys.retireAgain(kid, new Date(), {
        graceSeconds: this.config.KEY_RETIREMENT_GRACE_SECONDS,
        untilSeconds: this.untilLastTokenSeconds(),
      });
    } catch (err) {
      this.logger.warn(`could not extend the verifyUntil of signing key ${kid}: ${(err as Error).message}`);
      return false;
    }
    if (!late) return false;
    this.logger.warn(
      `heard of the rotation away from signing key ${kid} late: it verifies on until its tokens since have expired`,
    );
    // Not awaited: until load() moves this replica to the new key it goes on signing with the old
    // one, and a JetStream that stalls (retries, stream look-ups) must not stretch that past the new
    // grace, whose tokens the next narrowing would no longer cover.
    void this.announceVerifiesAgain(kid);
    return true;
  }

  private async announceVerifiesAgain(kid: string): Promise<void> {
    try {
      await this.bus.publish(EVENTS.KEYS_ROTATED, { kid, at: new Date().toISOString() } satisfies KeysRotatedEvent);
    } catch (err) {
      // Stored all the same: the others read it at their next reload of the keys (a rotation, a start).
      this.logger.warn(`could not announce that signing key ${kid} verifies again: ${(err as Error).message}`);
    }
  }

  /**
   * During a rolling MASTER_KEY change a replica still on the old key may make the active key
   * (a rotation) after this one stored everything under the new key at its start: stored again
   * here, once heard of, or dropping MASTER_KEY_PREVIOUS after the roll stops every replica.
   */
  private async storeUnderCurrentMasterKey(kid: string, stored: Buffer, plain: Buffer): Promise<void> {
    try {
      if (await this.keys.replacePrivateKey(kid, stored, this.masterKey.encrypt(plain, kid)))
        this.logger.log(`stored signing key ${kid} again under the current MASTER_KEY`);
    } catch (err) {
      // Signing goes on with the key as read; the next start (MasterKeyRotationService) stores it again.
      this.logger.warn(
        `could not store signing key ${kid} again under the current MASTER_KEY: ${(err as Error).message}`,
      );
    }
  }

  /**
   * A retired key leaves the JWKS (and the verifier) once its last token has expired, not only at
   * the next rotation or restart: read the keys again then.
   */
  private prunePastVerifyUntil(rows: Array<Pick<SigningKeyEntity, 'verifyUntil' | 'retiredAt'>>): void {
    clearTimeout(this.pruneTimer);
    // Also when a retired key's grace ends: its verifyUntil may then come down (narrowRetired).
    const graceEnds = rows.map(
      (r) => (r.retiredAt?.getTime() ?? -Infinity) + this.config.KEY_RETIREMENT_GRACE_SECONDS * 1000,
    );
    const next = Math.min(
      ...rows.map((r) => r.verifyUntil?.getTime() ?? Infinity),
      ...graceEnds.filter((t) => t > Date.now()),
    );
    if (!Number.isFinite(next)) return;
    // setTimeout takes at most 2^31-1 ms (about 24 days): a longer wait is just taken in steps.
    const delay = Math.min(Math.max(next - Date.now(), 0) + 1000, 2 ** 31 - 1);
    this.pruneTimer = setTimeout(
      () => void this.bus.runUntilDone('removing signing keys past their last token', () => this.load()),
      delay,
    ).unref();
  }
}
