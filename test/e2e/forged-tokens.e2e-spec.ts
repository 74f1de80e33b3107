import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import { SUBJECTS } from '@portcullis/contracts';
import { login, Stack } from '../support/stack';
import { ReplyBody as Body } from '../support/fixtures';

/**
 * Forged and tampered tokens, judged by the real services over every validation surface:
 * REST GET (bearer), REST POST {token}, NATS auth.v1.token.validate, and a bearer-guarded route.
 * Each must be refused as UNAUTHENTICATED — never a 5xx, never valid. auth-core runs here with
 * VERIFY_WORKERS=2 (validations served by worker threads); test/security/jwt-attacks and every
 * other suite run it with the default, on the main thread.
 */

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');
const json64 = (v: unknown) => b64(JSON.stringify(v));
const decodeSegment = (seg: string) =>
  JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as Record<string, unknown>;

function es256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${b64(cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

function hs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${b64(createHmac('sha256', secret).update(input).digest())}`;
}

let stack: Stack;
let realToken: string;
let realHeader: Record<string, unknown>;
let realClaims: Record<string, unknown>;
let serverKid: string;
let serverJwk: Record<string, unknown>;
const forged: Record<string, string> = {};
const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const myEd = generateKeyPairSync('ed25519');
const MY_KID = 'attacker-key-1';

beforeAll(async () => {
  stack = await new Stack({ env: { VERIFY_WORKERS: '2' } }).start();
  expect(stack.logs()).toMatch(/token\.validate is served by 2 worker thread\(s\)/);
  realToken = (await login(stack)).access_token;
  const [h, p, s] = realToken.split('.');
  realHeader = decodeSegment(h);
  realClaims = decodeSegment(p);
  const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as {
    keys: Array<Record<string, unknown>>;
  };
  serverJwk = jwks.keys.find((k) => k.kid === realHeader.kid)!;
  serverKid = String(serverJwk.kid);
  const pem = createPublicKey({ key: serverJwk as never, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', kid: serverKid, typ: 'at+jwt' };
  const escalated = { ...realClaims, roles: ['admin', 'system'], sub: 'someone-else' };
  const none = { alg: 'none', kid: serverKid, typ: 'at+jwt' };

  Object.assign(forged, {
    'alg none, empty signature': `${json64(none)}.${json64(realClaims)}.`,
    'alg none, real signature kept': `${json64(none)}.${p}.${s}`,
    'alg "None" with a signature': `${json64({ ...none, alg: 'None' })}.${json64(realClaims)}.${b64('x')}`,
    'alg none without kid': `${json64({ alg: 'none' })}.${json64(realClaims)}.`,
    'HS256 keyed with the server public key (PEM)': hs256({ ...header, alg: 'HS256' }, escalated, pem),
    'HS256 keyed with the server public key (PEM, no trailing newline)': hs256(
      { ...header, alg: 'HS256' },
      escalated,
      pem.trim(),
    ),
    'HS256 keyed with the server JWK JSON': hs256({ ...header, alg: 'HS256' }, escalated, JSON.stringify(serverJwk)),
    'HS256 keyed with the server JWK x coordinate': hs256(
      { ...header, alg: 'HS256' },
      escalated,
      Buffer.from(String(serverJwk.x), 'base64url'),
    ),
    'HS512 keyed with the server PEM': `${json64({ ...header, alg: 'HS512' })}.${json64(escalated)}.${b64(
      createHmac('sha512', pem)
        .update(`${json64({ ...header, alg: 'HS512' })}.${json64(escalated)}`)
        .digest(),
    )}`,
    'ES256 by a fresh key under the server kid': es256(header, escalated, mine.privateKey),
    'ES256 by a fresh key under the server kid, claims unchanged': es256(header, realClaims, mine.privateKey),
    'EdDSA by a fresh key under the server kid': (() => {
      const h2 = { ...header, alg: 'EdDSA' };
      const input = `${json64(h2)}.${json64(realClaims)}`;
      return `${input}.${b64(cryptoSign(null, Buffer.from(input), myEd.privateKey))}`;
    })(),
    'unknown kid (own key)': es256({ ...header, kid: MY_KID }, realClaims, mine.privateKey),
    'wrong issuer (re-signed, own kid)': es256(
      { ...header, kid: MY_KID },
      { ...realClaims, iss: 'https://evil.example' },
      mine.privateKey,
    ),
    'wrong audience (re-signed, own kid)': es256(
      { ...header, kid: MY_KID },
      { ...realClaims, aud: 'another-service' },
      mine.privateKey,
    ),
    'expired beyond skew (re-signed, own kid)': es256(
      { ...header, kid: MY_KID },
      { ...realClaims, iat: now - 7200, exp: now - 3600 },
      mine.privateKey,
    ),
    'wrong issuer under the server kid (own key)': es256(
      header,
      { ...realClaims, iss: 'https://evil.example' },
      mine.privateKey,
    ),
    'expired under the server kid (own key)': es256(
      header,
      { ...realClaims, iat: now - 7200, exp: now - 3600 },
      mine.privateKey,
    ),
    'embedded jwk header with own key': es256(
      { ...header, jwk: mine.publicKey.export({ format: 'jwk' }) },
      escalated,
      mine.privateKey,
    ),
    'embedded jwk header, own kid': es256(
      { ...header, kid: MY_KID, jwk: { ...mine.publicKey.export({ format: 'jwk' }), kid: MY_KID } },
      escalated,
      mine.privateKey,
    ),
    'jku header pointing elsewhere': es256(
      { ...header, kid: MY_KID, jku: 'http://127.0.0.1:1/jwks.json' },
      escalated,
      mine.privateKey,
    ),
    'x5u header pointing elsewhere': es256(
      { ...header, kid: MY_KID, x5u: 'http://127.0.0.1:1/cert.pem' },
      escalated,
      mine.privateKey,
    ),
    'real token, payload escalated to other roles': `${h}.${json64({ ...realClaims, roles: ['system'] })}.${s}`,
    'real token, payload with extended exp': `${h}.${json64({ ...realClaims, exp: now + 10 * 365 * 86400 })}.${s}`,
    'real token, header switched to EdDSA': `${json64({ ...realHeader, alg: 'EdDSA' })}.${p}.${s}`,
    'real token, header switched to HS256': `${json64({ ...realHeader, alg: 'HS256' })}.${p}.${s}`,
    'real token, all-zero signature': `${h}.${p}.${b64(Buffer.alloc(64))}`,
    'real token, signature truncated': `${h}.${p}.${s.slice(0, -6)}`,
    'real token, signature dropped': `${h}.${p}.`,
    'real token, payload truncated': `${h}.${p.slice(0, -9)}.${s}`,
    'real token, four segments': `${h}.${p}.${s}.${s}`,
    'real token, two segments': `${h}.${p}`,
    'kid path traversal': es256({ ...header, kid: '../../../../etc/passwd' }, realClaims, mine.privateKey),
    'kid SQL injection': es256({ ...header, kid: "x' OR '1'='1" }, realClaims, mine.privateKey),
    'kid as object': es256({ ...header, kid: { $ne: null } }, realClaims, mine.privateKey),
    'kid of 4 KB': es256({ ...header, kid: 'k'.repeat(4 * 1024) }, realClaims, mine.privateKey),
    'not a JWT at all': 'hello-world',
  });
}, 60000);

afterAll(async () => {
  await stack?.stop();
}, 60000);

const cases = () => Object.entries(forged);

async function restGet(token: string) {
  const res = await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Body };
}

async function restPost(token: string) {
  const res = await fetch(`${stack.url}/api/v1/auth/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

function expectUnauthenticated(name: string, r: { status: number; body: Body }) {
  // The label rides along so a failure says which forgery got through.
  expect({ name, status: r.status, status_: r.body.status, key: r.body.error?.errorKey, valid: r.body.valid }).toEqual({
    name,
    status: 401,
    status_: 'UNAUTHENTICATED',
    key: 'UNAUTHENTICATED',
    valid: undefined,
  });
  expect(r.body.claims).toBeUndefined();
}

describe('forged tokens (real auth-core + gateway)', () => {
  it('the real token is valid everywhere (so every rejection below means something)', async () => {
    const get = await restGet(realToken);
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({
      valid: true,
      claims: { jti: realClaims.jti, iss: stack.issuer, aud: 'portcullis' },
    });
    const post = await restPost(realToken);
    expect(post.status).toBe(200);
    expect(post.body.valid).toBe(true);
    const nats = await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token: realToken });
    expect(nats).toMatchObject({ valid: true, claims: { sub: realClaims.sub } });
    expect(
      (await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${realToken}` } })).status,
    ).toBe(200);
  });

  it('the real header uses ES256, a kid published in the JWKS and typ at+jwt', () => {
    expect(realHeader).toEqual({ alg: 'ES256', kid: serverKid, typ: 'at+jwt' });
    expect(serverJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(serverJwk).not.toHaveProperty('d');
  });

  it('a token re-signed by a fresh key verifies under that key (the forgeries are well-formed)', () => {
    // Guards against the forged set being broken in a way that makes rejection trivial.
    const t = forged['ES256 by a fresh key under the server kid, claims unchanged'].split('.');
    const ok = cryptoVerify(
      'sha256',
      Buffer.from(`${t[0]}.${t[1]}`),
      { key: mine.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(t[2], 'base64url'),
    );
    expect(ok).toBe(true);
  });

  it('GET /api/v1/auth/validate refuses every forgery with 401 UNAUTHENTICATED', async () => {
    for (const [name, token] of cases()) {
      // Tokens that cannot be put in a header as-is still must not pass.
      expectUnauthenticated(name, await restGet(token));
    }
  });

  it('POST /api/v1/auth/validate refuses every forgery with 401 UNAUTHENTICATED', async () => {
    for (const [name, token] of cases()) expectUnauthenticated(name, await restPost(token));
  });

  it('NATS auth.v1.token.validate answers valid:false UNAUTHENTICATED to every forgery (never an error reply)', async () => {
    for (const [name, token] of cases()) {
      const msg = await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, JSON.stringify({ token }));
      expect({ name, errorHeader: msg.headers?.get('Portcullis-Error') ?? '' }).toEqual({ name, errorHeader: '' });
      const reply = msg.json<Body>();
      expect({ name, valid: reply.valid, code: reply.error?.code, claims: reply.claims }).toEqual({
        name,
        valid: false,
        code: 'UNAUTHENTICATED',
        claims: undefined,
      });
    }
  });

  it('a bearer-guarded route (GET /api/v1/auth/me) refuses every forgery', async () => {
    for (const [name, token] of cases()) {
      const res = await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
  });

  it('forgeries required to pass role checks are still UNAUTHENTICATED, not FORBIDDEN or valid', async () => {
    const token = forged['HS256 keyed with the server public key (PEM)'];
    const reply = await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token, roles: ['system'] });
    expect(reply).toMatchObject({ valid: false, error: { code: 'UNAUTHENTICATED' } });
  });

  it('a token over the 8 KB limit (10 KB kid) is refused as a bad request or unauthenticated, never valid or 5xx', async () => {
    const huge = es256({ alg: 'ES256', kid: 'k'.repeat(10 * 1024), typ: 'at+jwt' }, realClaims, mine.privateKey);
    for (const r of [await restGet(huge), await restPost(huge)]) {
      expect([400, 401]).toContain(r.status);
      expect(r.body.valid).toBeUndefined();
      expect(r.body.statusCode).toBe(r.status);
    }
    const reply = await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token: huge });
    expect(reply.valid).toBe(false);
    expect(['BAD_REQUEST', 'UNAUTHENTICATED']).toContain(reply.error?.code);
  });

  it('the services are still healthy and never answered 5xx', async () => {
    expect((await fetch(`${stack.url}/health/ready`)).status).toBe(200);
    expect(stack.replicas.every((r) => r.running)).toBe(true);
    expect(stack.logs()).not.toMatch(/"level":(50|60)|ERROR \[/);
    expect((await restGet(realToken)).status).toBe(200);
  });
});
