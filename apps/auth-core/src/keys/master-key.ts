import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Everything derived from MASTER_KEY: the AES-256-GCM key that encrypts signing keys at rest and
 * the HMAC key for hashing high-entropy secrets (refresh tokens, client secrets, PATs). Separate
 * HKDF labels keep one use from weakening the other.
 */
export class MasterKey {
  private readonly encKey: Buffer;
  private readonly hashKey: Buffer;

  constructor(masterKey: string) {
    const ikm = Buffer.from(masterKey, 'utf8');
    this.encKey = Buffer.from(hkdfSync('sha256', ikm, 'portcullis', 'signing-key-encryption', 32));
    this.hashKey = Buffer.from(hkdfSync('sha256', ikm, 'portcullis', 'secret-hash', 32));
  }

  encrypt(plain: Buffer, aad: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  decrypt(blob: Buffer, aad: string): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, blob.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
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
