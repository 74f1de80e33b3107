import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { plainValidRequest, ValidateTokenRequestDto, validatePayload } from '@portcullis/contracts';
import { signCompact, TokenVerifier } from '@portcullis/jwt';
import { AuthCoreConfig } from '../config/config';
import { PatResolverService } from '../credentials/pat-resolver.service';
import { KeyRingService } from '../keys/key-ring.service';
import { RevocationCacheService } from './revocation-cache.service';
import { TokenValidationService } from './token-validation.service';
import { ValidateResponder } from './validate-responder';

const accepts = (payload: unknown): boolean => {
  try {
    validatePayload(ValidateTokenRequestDto, payload);
    return true;
  } catch {
    return false;
  }
};

describe('validate fast path: accepts only what ValidateTokenRequestDto accepts', () => {
  const token = 'a.b.c';
  const cases: unknown[] = [
    { token },
    { token: '' },
    { token, roles: ['admin'], permissions: ['tokens:read'], tenant: 'acme', clientIp: '10.0.0.1' },
    { token, clientIp: '::1' },
    { token, roles: [] },
    { token: 'x'.repeat(8192) },
    { token: 'x'.repeat(8193) },
    { token: '😀'.repeat(4097) },
    { token: 42 },
    {},
    { token, extra: 1 },
    { token, constructor: 'x' },
    JSON.parse('{"token":"a","__proto__":{"x":1}}'),
    { token, roles: null },
    { token, roles: 'admin' },
    { token, roles: [''] },
    { token, roles: ['a b'] },
    { token, roles: ['é'] },
    { token, roles: ['\uFE0F'] },
    { token, roles: ['r'.repeat(64)] },
    { token, roles: ['r'.repeat(65)] },
    { token, roles: Array.from({ length: 32 }, (_, i) => `r${i}`) },
    { token, roles: Array.from({ length: 33 }, (_, i) => `r${i}`) },
    { token, roles: [1] },
    { token, tenant: '' },
    { token, tenant: 't'.repeat(128) },
    { token, tenant: 't'.repeat(129) },
    { token, tenant: null },
    { token, clientIp: '' },
    { token, clientIp: 'i'.repeat(65) },
    null,
    [],
    'token',
    { '(malformed)': true },
    { token: '' },
  ];

  it.each(cases.map((c) => [JSON.stringify(c)?.slice(0, 80), c]))('%s', (_label, payload) => {
    const fast = plainValidRequest(payload);
    // Never more lenient than class-validator; where it declines, the full path decides.
    if (fast) expect(accepts(payload)).toBe(true);
  });

  it('takes the common shapes itself', () => {
    expect(plainValidRequest({ token })).toEqual({ token });
    expect(plainValidRequest({ token, roles: ['admin'], tenant: 'acme', clientIp: '10.1.2.3' })).not.toBeNull();
  });
});

describe('remembered verifications', () => {
  const NOW = Math.floor(Date.now() / 1000);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const config = { ISSUER: 'https://issuer.test', AUDIENCE: 'portcullis', CLOCK_SKEW: 30 } as AuthCoreConfig;
  const sign = (over: Record<string, unknown> = {}, kid = 'k1') =>
    signCompact(
      { alg: 'ES256', kid, typ: 'at+jwt' },
      {
        iss: config.ISSUER,
        aud: config.AUDIENCE,
        sub: 'svc',
        iat: NOW - 5,
        exp: NOW + 600,
        jti: `tid-${Math.random()}`,
        cid: 'svc',
        rcid: 'svc',
        typ: 'client',
        roles: ['service'],
        tenants: [],
        ...over,
      },
      ec.privateKey,
      'ES256',
    );

  let keys: KeyRingService;
  let revoked: Set<string>;
  let current: boolean;
  let service: TokenValidationService;
  beforeEach(() => {
    current = true;
    keys = { verifier: new TokenVerifier() } as unknown as KeyRingService;
    keys.verifier.setKeys([{ kid: 'k1', alg: 'ES256', key: ec.publicKey }]);
    revoked = new Set();
    const revocations = {
      isRevoked: (tid: string) => revoked.has(tid),
      isDisabled: () => false,
      isCurrent: () => current,
    } as unknown as RevocationCacheService;
    service = new TokenValidationService(config, keys, revocations, {} as PatResolverService);
  });
  afterEach(() => jest.useRealTimers());

  it('a remembered token is still refused once revoked', () => {
    const t = sign({ jti: 'tid-r' });
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    revoked.add('tid-r');
    expect(service.validateNow(t)).toMatchObject({ valid: false, error: { message: 'Token has been revoked' } });
  });

  it('over NATS, a remembered token is answered from the callback; its reply bytes are reused, its verdict is not', () => {
    const responder = new ValidateResponder(
      { isRemembered: (token) => service.isRemembered(token), judge: (req) => service.validateNow(req.token, req) },
      () => undefined,
      (message) => {
        throw new Error(message);
      },
    );
    const t = sign({ jti: 'tid-n' });
    const sent: string[] = [];
    const ask = () =>
      (responder as unknown as { enqueue(m: unknown): void }).enqueue({
        reply: '_INBOX.x',
        headers: undefined,
        data: Buffer.from(JSON.stringify({ token: t })),
        json: () => ({ token: t }),
        respond: (d: Uint8Array | string) => sent.push(typeof d === 'string' ? d : Buffer.from(d).toString()),
      });
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    ask();
    ask();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toBe(sent[0]);
    expect(JSON.parse(sent[0])).toEqual(service.validateNow(t));
    revoked.add('tid-n');
    ask();
    expect(JSON.parse(sent[2])).toMatchObject({ valid: false, error: { message: 'Token has been revoked' } });
    ask();
    expect(JSON.parse(sent[3])).toMatchObject({ valid: false });
  });

  it('while the revocations are not current (NATS reconnecting), every token is UNAVAILABLE, remembered or not', async () => {
    const t = sign({ jti: 'tid-c' });
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    current = false;
    expect(service.validateNow(t)).toMatchObject({ valid: false, error: { code: 'UNAVAILABLE' } });
    expect(service.validateNow(sign({ jti: 'tid-d' }))).toMatchObject({ valid: false, error: { code: 'UNAVAILABLE' } });
    expect(await service.validate('pcl_pat_x')).toMatchObject({ valid: false, error: { code: 'UNAVAILABLE' } });
    current = true;
    expect(service.validateNow(t)).toMatchObject({ valid: true });
  });

  it('a remembered token is refused past exp (+ skew), never served from memory', () => {
    const t = sign({ exp: NOW + 60 });
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    jest.useFakeTimers({ now: (NOW + 60 + 30) * 1000 });
    expect(service.validateNow(t)).toMatchObject({ valid: false, error: { message: 'Token has expired' } });
  });

  it('a remembered token is refused once its key leaves the key ring', () => {
    const t = sign();
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    keys.verifier.setKeys([]);
    expect(service.validateNow(t)).toMatchObject({ valid: false, error: { message: 'Token signing key is unknown' } });
  });

  it('requirements are judged on every call, not remembered', () => {
    const t = sign();
    expect(service.validateNow(t)).toMatchObject({ valid: true });
    expect(service.validateNow(t, { roles: ['admin'] })).toMatchObject({ valid: false, error: { code: 'FORBIDDEN' } });
  });

  it('a token with a bad signature is never remembered as good', () => {
    const t = sign();
    const forged = `${t.slice(0, t.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    expect(service.validateNow(forged)).toMatchObject({ valid: false });
    expect(service.validateNow(forged)).toMatchObject({ valid: false });
  });
});
