import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasherService implements OnModuleInit {
  /** Verified against when there is no real hash, so an unknown user costs the same time. */
  private dummyHash = '';

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash('portcullis-timing-equaliser', ARGON2_PARAMS);
  }

  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), ARGON2_PARAMS);
  }

  /** Always runs argon2, even with no stored hash: no quick exit an attacker could time. */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    try {
      const ok = await verify(storedHash ?? this.dummyHash, password.normalize('NFC'));
      return ok && storedHash !== null;
    } catch {
      return false;
    }
  }
}
