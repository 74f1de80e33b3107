import { generateKeyPairSync } from 'node:crypto';
import { signCompact, verifySignature } from './jwt-codec';
import { SignaturePool } from './signature-pool';
import { TokenVerifier, VerificationKey } from './token-verifier';
import { VerifiedTokenCache } from './verified-token-cache';

const ISSUER = 'https://portcullis.test';
const AUDIENCE = 'cluster';
const opts = { issuer: ISSUER, audience: AUDIENCE, clockSkew: 30 };

function keyPair(kid: string, alg: 'ES256' | 'EdDSA' = 'ES256') {
  const { privateKey, publicKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const verification: VerificationKey = { kid, alg, key: publicKey };
  const sign = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return signCompact(
      { alg, kid, typ: 'JWT' },
      {
        iss: ISSUER,
        aud: AUDIENCE,
        sub: 'u1',
        jti: `t-${Math.random().toString(36).slice(2)}`,
        cid: 'c',
        rcid: 'c',
        typ: 'user',
        roles: ['user'],
        tenants: [],
        iat: now,
        exp: now + 300,
        ...claims,
      },
      privateKey,
      alg,
    );
  };
  return { verification, sign };
}

const tamper = (token: string) => {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
};

describe('SignaturePool (real worker threads)', () => {
  const verifier = new TokenVerifier();
  const es = keyPair('k-es');
  const ed = keyPair('k-ed', 'EdDSA');
  let pool: SignaturePool;

  beforeAll(() => {
    verifier.setKeys([es.verification, ed.verification]);
    pool = new SignaturePool(verifier, 2);
  });
  afterAll(() => pool.close());

  it('agrees with the inline verifier on good, tampered and truncated signatures, for both algorithms', async () => {
    const tokens = [es.sign(), ed.sign(), tamper(es.sign()), tamper(ed.sign()), es.sign().slice(0, -6)];
    for (let i = 0; i < 40; i++) tokens.push(i % 3 ? es.sign() : tamper(es.sign()));
    const viaPool = await Promise.all(
      tokens.map((t) => {
        const p = verifier.prepare(t);
        if (!p.ok) return p.reason;
        return pool.verify(p.key.kid, p.key.alg, p.jws.signingInput, p.jws.signatureSegment);
      }),
    );
    const inline = tokens.map((t) => {
      const p = verifier.prepare(t);
      return p.ok ? verifySignature(p.key.alg, p.key.key, p.jws.signingInput, p.jws.signature) : p.reason;
    });
    expect(viaPool).toEqual(inline);
    expect(viaPool.slice(0, 5)).toEqual([true, true, false, false, false]);
  });

  it('refuses a signature checked against a key of another algorithm or a kid it does not hold', async () => {
    const p = verifier.prepare(es.sign());
    if (!p.ok) throw new Error(p.reason);
    expect(await pool.verify('k-ed', 'EdDSA', p.jws.signingInput, p.jws.signatureSegment)).toBe(false);
    expect(await pool.verify('k-gone', 'ES256', p.jws.signingInput, p.jws.signatureSegment)).toBe(false);
  });

  it('follows key rotation: a new key verifies at once, a removed one no longer does', async () => {
    const next = keyPair('k-next');
    const token = next.sign();
    verifier.setKeys([es.verification, ed.verification, next.verification]);
    const cache = new VerifiedTokenCache();
    expect(await cache.verifyOn(pool, verifier, token, opts)).toMatchObject({ ok: true, kid: 'k-next' });
    verifier.setKeys([es.verification, ed.verification]);
    const p = next.sign();
    expect(await new VerifiedTokenCache().verifyOn(pool, verifier, p, opts)).toEqual({
      ok: false,
      reason: 'UNKNOWN_KID',
    });
    // Remembered, but its key left the ring: never served from memory.
    expect(await cache.verifyOn(pool, verifier, token, opts)).toEqual({ ok: false, reason: 'UNKNOWN_KID' });
  });

  it('judges claims after the signature exactly as verify() does', async () => {
    const cache = new VerifiedTokenCache();
    const cases = [
      es.sign(),
      es.sign({ iss: 'https://elsewhere' }),
      es.sign({ aud: 'other' }),
      es.sign({ exp: Math.floor(Date.now() / 1000) - 120 }),
      es.sign({ nbf: Math.floor(Date.now() / 1000) + 600 }),
      es.sign({ roles: 'admin' }),
      tamper(es.sign()),
      'not.a.jwt',
    ];
    for (const t of cases) expect(await cache.verifyOn(pool, verifier, t, opts)).toEqual(verifier.verify(t, opts));
  });

  it('answers a remembered token without a worker, and refuses before the signature what verify() refuses', () => {
    const cache = new VerifiedTokenCache();
    const token = es.sign();
    expect(cache.verify(verifier, token, opts).ok).toBe(true);
    expect(cache.verifyOn(pool, verifier, token, opts)).toMatchObject({ ok: true });
    expect(cache.verifyOn(pool, verifier, 'a.b', opts)).toEqual({ ok: false, reason: 'MALFORMED' });
  });

  it('a worker that dies fails its jobs closed and is replaced', async () => {
    const own = new SignaturePool(verifier, 1);
    try {
      const p = verifier.prepare(es.sign());
      if (!p.ok) throw new Error(p.reason);
      expect(await own.verify(p.key.kid, p.key.alg, p.jws.signingInput, p.jws.signatureSegment)).toBe(true);
      const lane = (own as unknown as { lanes: Array<{ worker: { terminate(): Promise<number> } }> }).lanes[0];
      // The job reaches a worker that is going away: it is never answered by it.
      const dying = lane.worker.terminate();
      const inFlight = own.verify(p.key.kid, p.key.alg, p.jws.signingInput, p.jws.signatureSegment);
      await dying;
      expect(await inFlight).toBe(false);
      expect(own.size).toBe(1);
      expect(await own.verify(p.key.kid, p.key.alg, p.jws.signingInput, p.jws.signatureSegment)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('after close, verifies inline (a validation during shutdown is still answered right)', async () => {
    const own = new SignaturePool(verifier, 1);
    await own.close();
    const good = verifier.prepare(es.sign());
    const bad = verifier.prepare(tamper(es.sign()));
    if (!good.ok || !bad.ok) throw new Error('prepare');
    expect(await own.verify(good.key.kid, good.key.alg, good.jws.signingInput, good.jws.signatureSegment)).toBe(true);
    expect(await own.verify(bad.key.kid, bad.key.alg, bad.jws.signingInput, bad.jws.signatureSegment)).toBe(false);
  });
});
