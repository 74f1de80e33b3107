import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { Algorithm, hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { importJWK, jwtVerify } from 'jose';
import { closedLoop, syncLoop } from '../lib/stats.mjs';
import { decodeJwt } from '../lib/wire.mjs';

const ARGON2_PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * Ceilings of the cryptography: ES256 verify of the minted tokens (node:crypto and jose) and
 * argon2id verify with the app's library and parameters. Gives back the ops the turns rows pair
 * with: `es256Op` (one node:crypto verify) and `argonOp` (one argon2id verify).
 */
export async function cryptoCeilings(b, fx) {
  const { minted, jwks, gw } = fx;
  const loop = b.loop;
  const decoded = minted.map(decodeJwt);
  const jwkOf = (kid) => jwks.find((k) => k.kid === kid);
  const keyObject = createPublicKey({ key: jwkOf(decoded[0].header.kid), format: 'jwk' });
  const es256Op = (i) => {
    const d = decoded[i % decoded.length];
    if (!cryptoVerify('sha256', d.input, { key: keyObject, dsaEncoding: 'ieee-p1363' }, d.signature))
      throw new Error('bad signature');
  };
  await b.phase(
    'ceiling.es256.crypto',
    'ceiling',
    'node:crypto ES256 verify, KeyObject, sync, 1 core',
    { concurrency: 1 },
    async () => syncLoop({ ...loop, op: es256Op }),
  );
  const joseKey = await importJWK(jwkOf(decoded[0].header.kid), 'ES256');
  await b.phase('ceiling.es256.jose', 'ceiling', 'jose jwtVerify (WebCrypto), 1 in flight', { concurrency: 1 }, () =>
    closedLoop({
      concurrency: 1,
      ...loop,
      op: (i) =>
        jwtVerify(minted[i % minted.length], joseKey, { issuer: gw, audience: 'portcullis', algorithms: ['ES256'] }),
    }),
  );
  /** One argon2id verify with the app's parameters (the ceiling's op, reused by turns.http.login). */
  let argonOp;
  {
    const stored = await argonHash('correct horse battery staple', ARGON2_PARAMS);
    const op = (argonOp = async () => {
      if (!(await argonVerify(stored, 'correct horse battery staple'))) throw new Error('argon2 mismatch');
    });
    const argonLoop = { warmupMs: Math.min(b.opts.warmupMs, 500), durationMs: b.opts.measureMs };
    await b.phase(
      'ceiling.argon2.1core',
      'ceiling',
      'argon2id verify (19456 KiB, t=2, p=1), 1 in flight = 1 core',
      { concurrency: 1 },
      () => closedLoop({ concurrency: 1, ...argonLoop, op }),
    );
    // libuv's pool has 4 threads (auth-core uses the default too); 4 in flight keeps both cores busy.
    await b.phase(
      'ceiling.argon2.2cores',
      'ceiling',
      'argon2id verify, 4 in flight on the libuv pool = 2 cores',
      { concurrency: 4 },
      () => closedLoop({ concurrency: 4, ...argonLoop, op }),
    );
  }
  return { es256Op, argonOp };
}
