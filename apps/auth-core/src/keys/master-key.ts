import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const encryptionKey = (ikm: Buffer) => Buffer.from(hkdfSync('sha256', ikm, 'portcullis', 'signing-key-encryption', 32));

/**
 * Everything derived from MASTER_KEY: the AES-256-GCM key that encrypts signing keys at rest and
 * the HMAC key for hashing high-entropy secrets (refresh tokens, client secrets, PATs). Separate
 * HKDF labels keep one use from weakening the other. The previous MASTER_KEYs only decrypt: what
 * they open is stored again under the current one (MasterKeyRotationService), and the secret-hash
 * key, once stored, no longer depends on which MASTER_KEY is current.
 */
export class MasterKey {
  /** The current key's first, then MASTER_KEY_PREVIOUS's in order. */
  private readonly encKeys: Buffer[];
  private readonly masterKeys: Buffer[];
  private hashKey: Buffer;

  constructor(masterKey: string, previous: string[] = []) {
    this.masterKeys = [masterKey, ...previous].map((k) => Buffer.from(k, 'utf8'));
    this.encKeys = this.masterKeys.map(encryptionKey);
    this.hashKey = this.derivedHashKey(0);
  }

  /** The secret-hash key as derived from a MASTER_KEY (0: the current one): what it was before it was stored. */
  derivedHashKey(index: number): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKeys[index], 'portcullis', 'secret-hash', 32));
  }

  /** The secret-hash key kept in the database (it outlives the MASTER_KEY that first derived it). */
  useHashKey(key: Buffer): void {
    this.hashKey = key;
  }

  get keyCount(): number {
    return this.encKeys.length;
  }

  encrypt(plain: Buffer, aad: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKeys[0], iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  decrypt(blob: Buffer, aad: string): Buffer {
    return this.open(blob, aad).plain;
  }

  /** Decrypts with whichever key it was stored under; `index` says which (0: the current one). */
  open(blob: Buffer, aad: string): { plain: Buffer; index: number } {
    for (let index = 0; index < this.encKeys.length; index++) {
      try {
        return { plain: decryptWith(this.encKeys[index], blob, aad), index };
      } catch {
        // Not this key: the next one.
      }
    }
    throw new Error('none of the MASTER_KEYs given can decrypt it');
  }

  /** Keyed SHA-256: right for ≥256-bit random secrets, where argon2 would only cost time. */
  hashSecret(secret: string): Buffer {
    return createHmac('sha256', this.hashKey).update(secret).digest();
  }

  secretMatches(secret: string, hash: Buffer): boolean {
    const candidate = this.hashSecret(secret);
    return candidate.length === hash.length && timingSafeEqual(candidate, hash);
  }
}

function decryptWith(key: Buffer, blob: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(blob.subarray(12, 28));
  return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
}
