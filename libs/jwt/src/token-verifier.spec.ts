import { generateKeyPairSync, KeyObject, sign as cryptoSign } from 'node:crypto';
import { b64url, signCompact, SigningAlgorithm } from './jwt-codec';
import { TokenVerifier, VerifyFailure, VerifyOptions } from './token-verifier';

const NOW = 1_800_000_000;
const SKEW = 30;
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'portcullis';
const opts = (over: Partial<VerifyOptions> = {}): VerifyOptions => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  clockSkew: SKEW,
  now: NOW,
  ...over,
});

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecOther = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const EC_KID = 'ec-key-1';
const ED_KID = 'ed-key-1';

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    iat: NOW - 10,
    exp: NOW + 600,
    jti: 'tid-1',
    cid: 'portcullis',
    rcid: 'portcullis',
    typ: 'user',
    roles: ['user'],
    tenants: ['t1'],
    ...over,
  };
}

function token(
  over: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: KeyObject = ec.privateKey,
  alg: SigningAlgorithm = 'ES256',
): string {
  return signCompact({ alg, kid: EC_KID, typ: 'at+jwt', ...header }, claims(over), key, alg);
}

/** Builds a token with arbitrary header (any alg) and a raw signature. */
function raw(header: Record<string, unknown>, payload: Record<string, unknown>, signature: Buffer | string): string {
  const sig = typeof signature === 'string' ? signature : b64url(signature);
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${sig}`;
}

let verifier: TokenVerifier;
beforeEach(() => {
  verifier = new TokenVerifier();
  verifier.setKeys([
    { kid: EC_KID, alg: 'ES256', key: ec.publicKey },
    { kid: ED_KID, alg: 'EdDSA', key: ed.publicKey },
  ]);
});

const reasonOf = (t: string, o: Partial<VerifyOptions> = {}): VerifyFailure | 'OK' => {
  const r = verifier.verify(t, opts(o));
  return r.ok ? 'OK' : r.reason;
};

describe('TokenVerifier: good tokens', () => {
  it('accepts a well-formed ES256 token and returns its claims', () => {
    const r = verifier.verify(token(), opts());
    expect(r).toEqual({
      ok: true,
      claims: expect.objectContaining({ sub: 'user-1', jti: 'tid-1', roles: ['user'] }),
      kid: 'ec-key-1',
    });
  });

  it('accepts an EdDSA token signed by an Ed25519 key under its kid', () => {
    expect(reasonOf(token({}, { kid: ED_KID }, ed.privateKey, 'EdDSA'))).toBe('OK');
  });

  it('accepts an audience array that contains the audience', () => {
    expect(reasonOf(token({ aud: ['other', AUDIENCE] }))).toBe('OK');
  });
});

describe('TokenVerifier: claims', () => {
  it.each([
    ['foreign issuer', { iss: 'https://evil.example' }, 'WRONG_ISSUER'],
    ['issuer with trailing slash', { iss: `${ISSUER}/` }, 'WRONG_ISSUER'],
    ['missing issuer', { iss: undefined }, 'WRONG_ISSUER'],
    ['foreign audience', { aud: 'someone-else' }, 'WRONG_AUDIENCE'],
    ['audience array without ours', { aud: ['a', 'b'] }, 'WRONG_AUDIENCE'],
    ['missing audience', { aud: undefined }, 'WRONG_AUDIENCE'],
    ['missing exp', { exp: undefined }, 'BAD_CLAIMS'],
    ['string exp', { exp: String(NOW + 600) }, 'BAD_CLAIMS'],
    ['missing iat', { iat: undefined }, 'BAD_CLAIMS'],
    ['unknown typ', { typ: 'superuser' }, 'BAD_CLAIMS'],
    ['roles not an array', { roles: 'admin' }, 'BAD_CLAIMS'],
    ['tenants with a non-string', { tenants: [1] }, 'BAD_CLAIMS'],
    ['missing jti', { jti: undefined }, 'BAD_CLAIMS'],
    ['non-numeric nbf', { nbf: 'soon' }, 'BAD_CLAIMS'],
  ])('%s → %s', (_label, over, reason) => {
    expect(reasonOf(token(over))).toBe(reason);
  });

  it('exp: expired beyond the skew is refused, within the skew accepted', () => {
    expect(reasonOf(token({ exp: NOW - SKEW - 1 }))).toBe('EXPIRED');
    expect(reasonOf(token({ exp: NOW - SKEW }))).toBe('EXPIRED');
    expect(reasonOf(token({ exp: NOW - SKEW + 1 }))).toBe('OK');
    expect(reasonOf(token({ exp: NOW - 1 }))).toBe('OK');
    expect(reasonOf(token({ exp: NOW - 3600, iat: NOW - 7200 }))).toBe('EXPIRED');
  });

  it('exp follows the injected clock, not the wall clock', () => {
    const t = token({ exp: NOW + 60 });
    expect(reasonOf(t, { now: NOW })).toBe('OK');
    expect(reasonOf(t, { now: NOW + 60 + SKEW })).toBe('EXPIRED');
    expect(reasonOf(t, { now: NOW + 60 + SKEW - 1 })).toBe('OK');
  });

  it('nbf in the future beyond the skew is refused, within the skew accepted', () => {
    expect(reasonOf(token({ nbf: NOW + SKEW + 1 }))).toBe('NOT_YET_VALID');
    expect(reasonOf(token({ nbf: NOW + 3600 }))).toBe('NOT_YET_VALID');
    expect(reasonOf(token({ nbf: NOW + SKEW }))).toBe('OK');
    expect(reasonOf(token({ nbf: NOW - 5 }))).toBe('OK');
  });

  it('iat in the future beyond the skew is refused', () => {
    expect(reasonOf(token({ iat: NOW + SKEW + 5 }))).toBe('NOT_YET_VALID');
    expect(reasonOf(token({ iat: NOW + SKEW - 1 }))).toBe('OK');
  });

  it('a zero skew is honoured', () => {
    expect(reasonOf(token({ exp: NOW }), { clockSkew: 0 })).toBe('EXPIRED');
    expect(reasonOf(token({ exp: NOW + 1 }), { clockSkew: 0 })).toBe('OK');
  });
});

describe('TokenVerifier: algorithm and key selection', () => {
  const header = (h: Record<string, unknown>) =>
    raw({ kid: EC_KID, typ: 'at+jwt', ...h }, claims(), Buffer.alloc(64, 1));

  it.each([
    ['none', { alg: 'none' }],
    ['None', { alg: 'None' }],
    ['NONE', { alg: 'NONE' }],
    ['HS256', { alg: 'HS256' }],
    ['RS256', { alg: 'RS256' }],
    ['PS256', { alg: 'PS256' }],
    ['es256 (case)', { alg: 'es256' }],
    ['ES384', { alg: 'ES384' }],
    ['missing alg', {}],
    ['alg as array', { alg: ['ES256'] }],
  ])('alg %s is not allowed', (_label, h) => {
    expect(reasonOf(header(h))).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('alg:none with an empty signature segment is malformed or not allowed, never OK', () => {
    const t = `${b64url(JSON.stringify({ alg: 'none', kid: EC_KID }))}.${b64url(JSON.stringify(claims()))}.`;
    expect(['MALFORMED', 'ALGORITHM_NOT_ALLOWED']).toContain(reasonOf(t));
  });

  it('the key decides the algorithm: EdDSA header on an ES256 kid and vice versa are refused', () => {
    expect(reasonOf(token({}, { kid: EC_KID }, ed.privateKey, 'EdDSA'))).toBe('ALGORITHM_NOT_ALLOWED');
    expect(reasonOf(token({}, { kid: ED_KID }, ec.privateKey, 'ES256'))).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('an ES256 token signed by another key under a known kid fails the signature', () => {
    expect(reasonOf(token({}, {}, ecOther.privateKey))).toBe('BAD_SIGNATURE');
  });

  it('an unknown kid is refused even with a valid signature by that key', () => {
    expect(reasonOf(token({}, { kid: 'not-a-kid' }, ecOther.privateKey))).toBe('UNKNOWN_KID');
  });

  it('forgets keys that setKeys no longer lists', () => {
    const t = token();
    verifier.setKeys([{ kid: ED_KID, alg: 'EdDSA', key: ed.publicKey }]);
    expect(verifier.hasKid(EC_KID)).toBe(false);
    expect(reasonOf(t)).toBe('UNKNOWN_KID');
  });

  it.each(['jwk', 'jku', 'x5u', 'x5c', 'crit'])('a correctly signed token with a %s header is refused', (h) => {
    const value =
      h === 'jwk' ? ecOther.publicKey.export({ format: 'jwk' }) : h === 'crit' ? ['exp'] : 'https://evil.example/keys';
    expect(reasonOf(token({}, { [h]: value }))).toBe('FORBIDDEN_HEADER');
  });

  it.each([
    ['no typ', { typ: undefined }],
    ['typ JWT (a JWT of another kind under the same key)', { typ: 'JWT' }],
    ['typ of an ID token profile', { typ: 'id_token+jwt' }],
    ['typ at+jwt with a suffix', { typ: 'at+jwt-x' }],
    ['typ as an array', { typ: ['at+jwt'] }],
  ])('a correctly signed token with %s is refused (RFC 9068 §4)', (_label, header) => {
    expect(reasonOf(token({}, header))).toBe('WRONG_TYPE');
  });

  it.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT'])('typ %s is an access token', (typ) => {
    expect(reasonOf(token({}, { typ }))).toBe('OK');
  });

  it('a refused typ is not remembered as an accepted header', () => {
    expect(reasonOf(token({}, { typ: 'JWT' }))).toBe('WRONG_TYPE');
    expect(reasonOf(token({}, { typ: 'JWT' }))).toBe('WRONG_TYPE');
  });

  it.each([
    ['path traversal', '../../../../etc/passwd'],
    ['SQL', "' OR '1'='1' --"],
    ['NUL byte', `${EC_KID}\u0000`],
    ['whitespace', ` ${EC_KID}`],
    ['number', 1],
    ['object', { $ne: null }],
    ['missing', undefined],
    ['129 chars', 'a'.repeat(129)],
  ])('kid %s is unknown', (_label, kid) => {
    expect(reasonOf(token({}, { kid }))).toBe('UNKNOWN_KID');
  });

  it('a 10 KB kid is refused without crashing', () => {
    expect(['MALFORMED', 'UNKNOWN_KID']).toContain(reasonOf(token({}, { kid: 'k'.repeat(10 * 1024) })));
  });
});

describe('TokenVerifier: structure and signature bytes', () => {
  it.each([
    ['empty', ''],
    ['one segment', 'abc'],
    ['two segments', 'abc.def'],
    ['four segments', `${'a'.repeat(4)}.b.c.d`],
    ['five segments (JWE)', 'a.b.c.d.e'],
    ['base64 padding', `${token()}=`],
    ['standard base64 chars', token().replace(/-/g, '+').replace(/_/g, '/') + '+/'],
    ['over 8 KB', `${token()}${'A'.repeat(9000)}`],
  ])('%s is malformed', (_label, t) => {
    expect(reasonOf(t)).toBe('MALFORMED');
  });

  it('non-strings are malformed, not thrown', () => {
    for (const t of [null, undefined, 42, {}, ['a.b.c']]) expect(reasonOf(t as unknown as string)).toBe('MALFORMED');
  });

  it('a truncated payload segment is refused', () => {
    const [h, p, s] = token().split('.');
    expect(['MALFORMED', 'BAD_SIGNATURE']).toContain(reasonOf(`${h}.${p.slice(0, p.length - 7)}.${s}`));
  });

  it('a header or payload that is not a JSON object is malformed', () => {
    const s = b64url(Buffer.alloc(64));
    expect(reasonOf(`${b64url('[1,2]')}.${b64url(JSON.stringify(claims()))}.${s}`)).toBe('MALFORMED');
    expect(reasonOf(`${b64url(JSON.stringify({ alg: 'ES256', kid: EC_KID }))}.${b64url('null')}.${s}`)).toBe(
      'MALFORMED',
    );
    expect(reasonOf(`${b64url('{"alg":')}.${b64url(JSON.stringify(claims()))}.${s}`)).toBe('MALFORMED');
  });

  it('an all-zero 64-byte ES256 signature is refused', () => {
    expect(reasonOf(raw({ alg: 'ES256', kid: EC_KID, typ: 'at+jwt' }, claims(), Buffer.alloc(64)))).toBe(
      'BAD_SIGNATURE',
    );
  });

  it('an all-zero Ed25519 signature is refused', () => {
    expect(reasonOf(raw({ alg: 'EdDSA', kid: ED_KID, typ: 'at+jwt' }, claims(), Buffer.alloc(64)))).toBe(
      'BAD_SIGNATURE',
    );
  });

  it('a DER-encoded ES256 signature (not JOSE raw r||s) is refused', () => {
    const header = { alg: 'ES256', kid: EC_KID, typ: 'at+jwt' };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims()))}`;
    const der = cryptoSign('sha256', Buffer.from(input), ec.privateKey);
    expect(reasonOf(`${input}.${b64url(der)}`)).toBe('BAD_SIGNATURE');
  });

  it('a tampered payload (roles escalated) fails the signature', () => {
    const [h, , s] = token().split('.');
    const evil = b64url(JSON.stringify(claims({ roles: ['admin'] })));
    expect(reasonOf(`${h}.${evil}.${s}`)).toBe('BAD_SIGNATURE');
  });

  it('a tampered EdDSA payload fails the signature', () => {
    const [h, , s] = token({}, { kid: ED_KID }, ed.privateKey, 'EdDSA').split('.');
    expect(reasonOf(`${h}.${b64url(JSON.stringify(claims({ sub: 'admin' })))}.${s}`)).toBe('BAD_SIGNATURE');
  });

  it('a truncated or extended signature is refused', () => {
    const t = token();
    expect(reasonOf(t.slice(0, -4))).toBe('BAD_SIGNATURE');
    expect(reasonOf(`${t}AAAA`)).toBe('BAD_SIGNATURE');
  });
});

describe('TokenVerifier: a header segment accepted once is not judged again', () => {
  it('later tokens with that header still have their payload, signature and claims checked', () => {
    const good = token();
    const [h, p, s] = good.split('.');
    expect(reasonOf(good)).toBe('OK');
    expect(reasonOf(token({ sub: 'user-2' }))).toBe('OK');
    expect(reasonOf(`${h}.${p}.${b64url(Buffer.alloc(64))}`)).toBe('BAD_SIGNATURE');
    expect(reasonOf(`${h}.${b64url(JSON.stringify(claims({ roles: ['admin'] })))}.${s}`)).toBe('BAD_SIGNATURE');
    expect(reasonOf(`${h}.${b64url('[1]')}.${s}`)).toBe('MALFORMED');
    expect(reasonOf(`${h}.${p}!.${s}`)).toBe('MALFORMED');
    expect(reasonOf(`${h}.${p}`)).toBe('MALFORMED');
    expect(reasonOf(`${h}..${s}`)).toBe('MALFORMED');
    expect(reasonOf(token({ iss: 'https://evil.example' }))).toBe('WRONG_ISSUER');
    expect(reasonOf(token({ exp: NOW - 3600 }))).toBe('EXPIRED');
  });

  it('a new key ring judges the header again: a removed kid is unknown, a replaced key decides the signature', () => {
    const before = token();
    expect(reasonOf(before)).toBe('OK');
    verifier.setKeys([{ kid: ED_KID, alg: 'EdDSA', key: ed.publicKey }]);
    expect(reasonOf(before)).toBe('UNKNOWN_KID');
    // The same kid now names another key (and another algorithm): the remembered header must not
    // bring the old key back.
    verifier.setKeys([{ kid: EC_KID, alg: 'EdDSA', key: ed.publicKey }]);
    expect(reasonOf(before)).toBe('ALGORITHM_NOT_ALLOWED');
    verifier.setKeys([{ kid: EC_KID, alg: 'ES256', key: ecOther.publicKey }]);
    expect(reasonOf(before)).toBe('BAD_SIGNATURE');
    expect(reasonOf(token({}, {}, ecOther.privateKey))).toBe('OK');
  });

  it('remembers a handful of headers at most, and still judges each one it forgot', () => {
    const variants = Array.from({ length: 20 }, (_, i) => token({}, { n: i }));
    for (const t of variants) expect(reasonOf(t)).toBe('OK');
    for (const t of variants) expect(reasonOf(t)).toBe('OK');
    expect(reasonOf(token({}, { n: 3, jku: 'https://evil.example/keys' }))).toBe('FORBIDDEN_HEADER');
  });
});

describe('TokenVerifier.verifyIssued: whether we issued it, expired or not (logout)', () => {
  it('an expired token passes, long after its expiry, with its claims', () => {
    const r = verifier.verifyIssued(token({ iat: NOW - 90_000, exp: NOW - 86_400 }), opts());
    expect(r).toMatchObject({ ok: true, claims: { sub: 'user-1', jti: 'tid-1' } });
    expect(verifier.verify(token({ iat: NOW - 90_000, exp: NOW - 86_400 }), opts())).toEqual({
      ok: false,
      reason: 'EXPIRED',
    });
  });

  it('a live token passes as verify() passes it', () => {
    expect(verifier.verifyIssued(token(), opts())).toEqual(verifier.verify(token(), opts()));
  });

  it('everything else verify() refuses it refuses: signature, key, issuer, audience, not yet valid, shape', () => {
    const expired = { iat: NOW - 7200, exp: NOW - 3600 };
    const [h, , s] = token(expired).split('.');
    const tampered = `${h}.${b64url(JSON.stringify(claims({ ...expired, roles: ['admin'] })))}.${s}`;
    const reasons = [
      tampered,
      token(expired, {}, ecOther.privateKey),
      token(expired, { kid: 'unknown-kid' }),
      token({ ...expired, iss: 'https://evil.example' }),
      token({ ...expired, aud: 'someone-else' }),
      token({ iat: NOW + 3600, exp: NOW + 7200 }),
      token({ ...expired, exp: 'soon' }),
      raw({ alg: 'none', typ: 'at+jwt', kid: EC_KID }, claims(expired), ''),
    ].map((t) => {
      const r = verifier.verifyIssued(t, opts());
      return r.ok ? 'ok' : r.reason;
    });
    expect(reasons).toEqual<Array<VerifyFailure | 'ok'>>([
      'BAD_SIGNATURE',
      'BAD_SIGNATURE',
      'UNKNOWN_KID',
      'WRONG_ISSUER',
      'WRONG_AUDIENCE',
      'NOT_YET_VALID',
      'BAD_CLAIMS',
      expect.stringMatching(/MALFORMED|ALGORITHM_NOT_ALLOWED/) as unknown as VerifyFailure,
    ]);
  });
});
