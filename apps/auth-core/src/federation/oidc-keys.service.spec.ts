import { errors, exportJWK, generateKeyPair, JWK, jwtVerify, SignJWT } from 'jose';
import { IdpUnavailableError, KeyPolicy, ProviderKeySet } from './oidc-keys.service';
import { OidcProvider } from './oidc-providers.config';

const ISSUER = 'https://idp.test';
const provider = { name: 'acme', issuer: ISSUER } as OidcProvider;
const quiet = { warn: () => undefined, log: () => undefined };

async function key(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const sign = () =>
    new SignJWT({ sub: 'u1' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { jwk, sign };
}

/** A fake IdP: answers discovery and JWKS from `state`, counts requests, can be "down". */
function idp(state: {
  keys: JWK[];
  down?: boolean;
  hang?: boolean;
  /** Hangs, and on the deadline fails the way undici sometimes does: a bare "fetch failed". */
  hangBare?: boolean;
  downWith?: unknown;
  issuer?: string;
  jwksUri?: string;
}) {
  const calls: string[] = [];
  const fetchImpl = (async (url: string, init: { signal: AbortSignal }) => {
    calls.push(String(url));
    if (state.hang)
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    if (state.hangBare)
      return new Promise((_, reject) =>
        init.signal.addEventListener('abort', () => reject(new TypeError('fetch failed'))),
      );
    if (state.downWith !== undefined) throw Object.assign(new TypeError('fetch failed'), { cause: state.downWith });
    if (state.down) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const body = String(url).endsWith('/openid-configuration')
      ? { issuer: state.issuer ?? ISSUER, jwks_uri: state.jwksUri ?? `${ISSUER}/jwks` }
      : { keys: state.keys };
    return new Response(JSON.stringify(body), { status: 200 });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

const policy = (over: Partial<KeyPolicy> = {}): KeyPolicy => ({
  timeoutMs: 1000,
  cacheMs: 60_000,
  cooldownMs: 0,
  maxStaleMs: 60_000,
  allowInsecureHttp: false,
  ...over,
});

describe('ProviderKeySet', () => {
  it('discovers the JWKS once and then verifies from its cache', async () => {
    const k1 = await key('k1');
    const { calls, fetchImpl } = idp({ keys: [k1.jwk] });
    const set = new ProviderKeySet(provider, policy(), quiet, fetchImpl);
    await jwtVerify(await k1.sign(), set.getKey);
    await jwtVerify(await k1.sign(), set.getKey);
    expect(calls).toEqual([`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/jwks`]);
  });

  it('refetches on an unknown kid (rotation), but not again within the cooldown', async () => {
    const [k1, k2, k3] = await Promise.all([key('k1'), key('k2'), key('k3')]);
    const state = { keys: [k1.jwk] };
    const { calls, fetchImpl } = idp(state);
    const set = new ProviderKeySet(provider, policy({ cooldownMs: 0 }), quiet, fetchImpl);
    await jwtVerify(await k1.sign(), set.getKey);
    state.keys = [k1.jwk, k2.jwk];
    await jwtVerify(await k2.sign(), set.getKey);
    expect(calls.filter((c) => c.endsWith('/jwks'))).toHaveLength(2);

    const slow = new ProviderKeySet(provider, policy({ cooldownMs: 60_000 }), quiet, fetchImpl);
    await jwtVerify(await k1.sign(), slow.getKey);
    state.keys = [k3.jwk];
    await expect(jwtVerify(await k3.sign(), slow.getKey)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(calls.filter((c) => c.endsWith('/jwks'))).toHaveLength(3);
  });

  it('keeps verifying with known keys while the IdP is down, until they are too old', async () => {
    const k1 = await key('k1');
    const state = { keys: [k1.jwk], down: false };
    const { fetchImpl } = idp(state);
    const set = new ProviderKeySet(provider, policy({ cacheMs: 0, maxStaleMs: 60_000 }), quiet, fetchImpl);
    await jwtVerify(await k1.sign(), set.getKey);
    state.down = true;
    await expect(jwtVerify(await k1.sign(), set.getKey)).resolves.toBeDefined();

    const strict = new ProviderKeySet(provider, policy({ cacheMs: 0, maxStaleMs: 0 }), quiet, fetchImpl);
    state.down = false;
    await jwtVerify(await k1.sign(), strict.getKey);
    state.down = true;
    await new Promise((r) => setTimeout(r, 5));
    await expect(jwtVerify(await k1.sign(), strict.getKey)).rejects.toThrow(/Identity provider acme is unavailable/);
  });

  it('answers unavailable, naming the provider, when it has no keys and cannot get them', async () => {
    const k1 = await key('k1');
    const state = { keys: [k1.jwk], down: true };
    const { calls, fetchImpl } = idp(state);
    const set = new ProviderKeySet(provider, policy({ cooldownMs: 60_000 }), quiet, fetchImpl);
    const err = await jwtVerify(await k1.sign(), set.getKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdpUnavailableError);
    expect((err as Error).message).toBe('Identity provider acme is unavailable: cannot be reached (ECONNREFUSED)');
    // Within the cooldown the failure is repeated without knocking on the IdP again.
    state.down = false;
    await expect(jwtVerify(await k1.sign(), set.getKey)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(calls).toHaveLength(1);
  });

  it('names the cause of a network failure even when it carries no code', async () => {
    const k1 = await key('k1');
    for (const [cause, shown] of [
      ['Request was cancelled.', 'Request was cancelled.'],
      [new Error('other side closed'), 'other side closed'],
      [undefined, 'fetch failed'],
    ] as const) {
      const set = new ProviderKeySet(provider, policy(), quiet, idp({ keys: [], downWith: cause ?? null }).fetchImpl);
      await expect(jwtVerify(await k1.sign(), set.getKey)).rejects.toThrow(
        `Identity provider acme is unavailable: cannot be reached (${shown})`,
      );
    }
  });

  it('bounds a hanging IdP by the timeout and refuses a discovery document of another issuer', async () => {
    const k1 = await key('k1');
    const hanging = new ProviderKeySet(
      provider,
      policy({ timeoutMs: 50 }),
      quiet,
      idp({ keys: [], hang: true }).fetchImpl,
    );
    const started = Date.now();
    await expect(jwtVerify(await k1.sign(), hanging.getKey)).rejects.toThrow('no answer within 50 ms');
    expect(Date.now() - started).toBeLessThan(1000);
    const bare = new ProviderKeySet(
      provider,
      policy({ timeoutMs: 50 }),
      quiet,
      idp({ keys: [], hangBare: true }).fetchImpl,
    );
    await expect(jwtVerify(await k1.sign(), bare.getKey)).rejects.toThrow('no answer within 50 ms');

    const foreign = new ProviderKeySet(
      provider,
      policy(),
      quiet,
      idp({ keys: [k1.jwk], issuer: 'https://evil' }).fetchImpl,
    );
    await expect(jwtVerify(await k1.sign(), foreign.getKey)).rejects.toThrow(
      /discovery document names issuer "https:\/\/evil"/,
    );
  });

  it('reads no more of an IdP answer than it would keep', async () => {
    const k1 = await key('k1');
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const huge = (headers: Record<string, string> = {}) =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (pulled >= 20 * 1024 * 1024) return c.close();
            pulled += chunk.byteLength;
            c.enqueue(chunk);
          },
        }),
        { status: 200, headers },
      );
    const endless = (async () => huge()) as unknown as typeof fetch;
    const set = new ProviderKeySet(provider, policy(), quiet, endless);
    await expect(jwtVerify(await k1.sign(), set.getKey)).rejects.toThrow(
      'Identity provider acme is unavailable: discovery document is too large',
    );
    expect(pulled).toBeLessThan(2 * 1024 * 1024);

    pulled = 0;
    const declared = (async () => huge({ 'content-length': String(20 * 1024 * 1024) })) as unknown as typeof fetch;
    const told = new ProviderKeySet(provider, policy(), quiet, declared);
    await expect(jwtVerify(await k1.sign(), told.getKey)).rejects.toThrow('discovery document is too large');
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it('takes keys from an https jwks_uri only, as it does an issuer (plain http: in tests or on loopback)', async () => {
    const k1 = await key('k1');
    const plain = { keys: [k1.jwk], jwksUri: 'http://keys.idp.test/jwks' };
    const strict = new ProviderKeySet(provider, policy(), quiet, idp(plain).fetchImpl);
    await expect(jwtVerify(await k1.sign(), strict.getKey)).rejects.toThrow(
      'Identity provider acme is unavailable: its discovery document has no https jwks_uri',
    );
    const loopback = { keys: [k1.jwk], jwksUri: 'http://127.0.0.1:8080/jwks' };
    const local = new ProviderKeySet(provider, policy(), quiet, idp(loopback).fetchImpl);
    await expect(jwtVerify(await k1.sign(), local.getKey)).resolves.toBeDefined();
    const dev = new ProviderKeySet(provider, policy({ allowInsecureHttp: true }), quiet, idp(plain).fetchImpl);
    await expect(jwtVerify(await k1.sign(), dev.getKey)).resolves.toBeDefined();
  });

  it('reports a published key that cannot be used as the IdP being unavailable, naming the key', async () => {
    const k1 = await key('k1');
    const mangled = { ...k1.jwk, x: '%%%', y: '!!' };
    const set = new ProviderKeySet(provider, policy(), quiet, idp({ keys: [mangled] }).fetchImpl);
    const err = await jwtVerify(await k1.sign(), set.getKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdpUnavailableError);
    expect((err as Error).message).toMatch(/^Identity provider acme is unavailable: its key k1 is unusable \(/);
  });
});
