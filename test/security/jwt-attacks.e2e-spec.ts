import { createHmac, createPublicKey, generateKeyPairSync, KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { ERROR_HEADER, SUBJECTS } from '@portcullis/contracts';
import { api, OAuthErrorReply, readJson, ReplyBody, SessionReply } from '../support/fixtures';
import { SuiteReport } from '../support/report';
import { findSecretLeaks } from '../support/secrets';
import { login, ManagedProcess, Stack, startExampleService, within } from '../support/stack';

/**
 * JWT attacks that test/e2e/forged-tokens.e2e-spec.ts and libs/jwt's unit tests do not already
 * prove, each tried on every surface that judges a token: REST GET/POST /auth/validate, a
 * bearer-guarded route, NATS auth.v1.token.validate, OAuth introspection and the SDK in local mode.
 *
 * - HS256/384/512 re-signed with the server's public key in DER and JWK forms (PEM is in forged-tokens);
 * - jwk / jku / x5u headers (and a kid that is a URL) pointing at a server of ours: refused, and
 *   the server is never asked for anything;
 * - a refresh token presented as an access token, and the reverse;
 * - a rotated refresh token replayed after auth-core restarted (killed) is still reuse.
 * - genuine signatures re-encoded: DER instead of r||s, the other S of a revoked token, padding,
 *   whitespace or standard base64 in a segment, an EdDSA signature under an ES256 alg or kid.
 */

const report = new SuiteReport(
  'security/jwt-attacks',
  'JWT attacks and token confusion',
  'test/security/jwt-attacks.e2e-spec.ts',
);

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');
const json64 = (v: unknown) => b64(JSON.stringify(v));
const decode = (seg: string) => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as Record<string, unknown>;

function hmac(alg: 'HS256' | 'HS384' | 'HS512', header: object, payload: object, key: Buffer | string): string {
  const input = `${json64({ ...header, alg })}.${json64(payload)}`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  return `${input}.${b64(createHmac(digest, key).update(input).digest())}`;
}

function es256(header: object, payload: object, key: KeyObject): string {
  const input = `${json64({ alg: 'ES256', ...header })}.${json64(payload)}`;
  return `${input}.${b64(cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

interface Verdict {
  surface: string;
  accepted: boolean;
  detail: string;
}

const stack = new Stack({ gatewayEnv: { LOGIN_FAILURES_PER_IP: '1000' } });
let sdk: { proc: ManagedProcess; url: string };
let adminToken: string;
let client: { id: string; secret: string };
let trap: Server;
let trapUrl = '';
const trapHits: string[] = [];
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ATTACKER_KID = 'attacker-kid';
const secretsUsed: Record<string, string> = {};

/** Every surface that judges a bearer, asked about `token`; each says whether it accepted it. */
async function judgeEverywhere(token: string): Promise<Verdict[]> {
  const out: Verdict[] = [];
  const record = (surface: string, accepted: boolean, detail: string) => {
    out.push({ surface, accepted, detail });
    report.requests(`validate via ${surface}`);
  };
  const get = await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
  const getBody = await get.text();
  record('REST GET /auth/validate', get.status < 300 || /"valid":true/.test(getBody), `${get.status}`);
  const post = await fetch(`${stack.url}/api/v1/auth/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const postBody = await post.text();
  record('REST POST /auth/validate', post.status < 300 || /"valid":true/.test(postBody), `${post.status}`);
  const me = await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  await me.arrayBuffer();
  record('REST GET /auth/me', me.status < 300, `${me.status}`);
  const msg = await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, JSON.stringify({ token }));
  const nats = msg.json<{ valid?: boolean; error?: { code: string } }>();
  record('NATS token.validate', nats.valid !== false || !!msg.headers?.get(ERROR_HEADER), JSON.stringify(nats.error));
  const intro = await fetch(`${stack.url}/oauth/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
  const introBody = (await intro.json()) as { active?: boolean; token_type?: string };
  // RFC 7662 may describe a refresh token as such (token_type refresh_token): only an access-token
  // answer counts as accepting it as a bearer.
  const asAccess = introBody.active !== false && introBody.token_type !== 'refresh_token';
  record('OAuth /oauth/introspect', intro.status !== 200 || asAccess, `${intro.status} ${introBody.token_type ?? ''}`);
  const widgets = await fetch(`${sdk.url}/widgets`, { headers: { authorization: `Bearer ${token}` } });
  await widgets.arrayBuffer();
  record('SDK local mode (example-service)', widgets.status < 300, `${widgets.status}`);
  return out;
}

function expectRefusedEverywhere(name: string, verdicts: Verdict[]) {
  report.case(name);
  const accepted = verdicts.filter((v) => v.accepted);
  for (const a of accepted) report.error(`accepted: ${name} via ${a.surface}`);
  expect({ name, accepted }).toEqual({ name, accepted: [] });
}

beforeAll(async () => {
  trap = createServer((req, res) => {
    trapHits.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ keys: [{ ...attacker.publicKey.export({ format: 'jwk' }), kid: ATTACKER_KID, alg: 'ES256' }] }),
    );
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
  await stack.start();
  const s = await login(stack);
  adminToken = s.access_token;
  const created = await api(stack, adminToken).post('/api/v1/clients', {
    clientId: 'introspector',
    roles: ['service'],
  });
  client = { id: 'introspector', secret: created.body.client_secret };
  secretsUsed['introspector client secret'] = client.secret;
  sdk = await startExampleService(stack, 'local');
}, 90000);

afterAll(async () => {
  await sdk?.proc.stop();
  await stack.stop();
  await new Promise((r) => trap?.close(r));
  report.write();
}, 60000);

describe('HMAC re-signed with the server public key in DER and JWK forms', () => {
  const forgeries: Record<string, string> = {};

  beforeAll(async () => {
    const [h, p] = adminToken.split('.');
    const header = decode(h);
    const claims = { ...decode(p), roles: ['admin', 'system'], sub: 'attacker' };
    const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as {
      keys: Array<Record<string, string>>;
    };
    const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
    const pub = createPublicKey({ key: jwk as never, format: 'jwk' });
    const der = pub.export({ type: 'spki', format: 'der' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
    const pemCrlf = (pub.export({ type: 'spki', format: 'pem' }) as string).replace(/\n/g, '\r\n');
    const keys: Record<string, Buffer | string> = {
      'SPKI DER bytes': der,
      'SPKI DER as base64': der.toString('base64'),
      'SPKI DER as base64url': der.toString('base64url'),
      'SPKI DER as hex': der.toString('hex'),
      'raw uncompressed EC point (04||x||y)': point,
      'JWK, RFC 7638 canonical JSON': canonical,
      'JWK JSON as base64url': b64(JSON.stringify(jwk)),
      'JWK JSON pretty-printed': JSON.stringify(jwk, null, 2),
      'PEM with CRLF line ends': pemCrlf,
    };
    const base = { kid: header.kid, typ: 'at+jwt' };
    for (const [form, key] of Object.entries(keys)) {
      forgeries[`HS256 keyed with ${form}`] = hmac('HS256', base, claims, key);
    }
    forgeries['HS384 keyed with SPKI DER bytes'] = hmac('HS384', base, claims, der);
    forgeries['HS512 keyed with JWK canonical JSON'] = hmac('HS512', base, claims, canonical);
    forgeries['HS256 keyed with SPKI DER bytes, no kid'] = hmac('HS256', { typ: 'at+jwt' }, claims, der);
    forgeries['HS256 keyed with JWK canonical JSON, no kid'] = hmac('HS256', { typ: 'JWT' }, claims, canonical);
  });

  it('the real token is accepted on every surface (so each refusal below means something)', async () => {
    const verdicts = await judgeEverywhere(adminToken);
    expect(verdicts.filter((v) => !v.accepted)).toEqual([]);
    expect(verdicts).toHaveLength(6);
  });

  it('every HMAC forgery is refused on every surface, REST and NATS', async () => {
    expect(Object.keys(forgeries).length).toBeGreaterThanOrEqual(13);
    for (const [name, token] of Object.entries(forgeries)) expectRefusedEverywhere(name, await judgeEverywhere(token));
  });
});

describe('key-locating headers: refused, and never fetched', () => {
  it('the trap server counts requests (control)', async () => {
    await (await fetch(`${trapUrl}/control`)).text();
    expect(trapHits).toEqual(['GET /control']);
    trapHits.length = 0;
  });

  it('jku, x5u, embedded jwk and a URL kid are refused everywhere and the trap gets zero requests', async () => {
    const [, p] = adminToken.split('.');
    const claims = { ...decode(p), roles: ['admin', 'system'] };
    const serverKid = decode(adminToken.split('.')[0]).kid;
    const ownJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: ATTACKER_KID };
    const cases: Record<string, object> = {
      'jku to our JWKS, attacker kid': { kid: ATTACKER_KID, jku: `${trapUrl}/jwks.json` },
      'jku to our JWKS, server kid': { kid: serverKid, jku: `${trapUrl}/jwks.json` },
      'jku without kid': { jku: `${trapUrl}/jwks.json` },
      'x5u to our certificate, attacker kid': { kid: ATTACKER_KID, x5u: `${trapUrl}/cert.pem` },
      'x5u with server kid': { kid: serverKid, x5u: `${trapUrl}/cert.pem` },
      'embedded jwk and jku together': { kid: ATTACKER_KID, jwk: ownJwk, jku: `${trapUrl}/jwks.json` },
      'embedded jwk alone (attacker kid)': { kid: ATTACKER_KID, jwk: ownJwk },
      'kid that is a URL': { kid: `${trapUrl}/jwks.json` },
      'kid that is a URL, plus jku': { kid: `${trapUrl}/k`, jku: `${trapUrl}/jwks.json` },
    };
    for (const [name, header] of Object.entries(cases)) {
      const token = es256({ typ: 'at+jwt', ...header }, claims, attacker.privateKey);
      expectRefusedEverywhere(name, await judgeEverywhere(token));
    }
    // Give any asynchronous fetch (a JWKS refresh on an unknown kid, say) the time to happen.
    await new Promise((r) => setTimeout(r, 1000));
    report.figure('requests received by the jku/x5u trap server', trapHits.length);
    expect(trapHits).toEqual([]);
    for (const h of trapHits) report.error(`outbound request to the trap: ${h}`);
  });
});

describe('token confusion: refresh token vs access token', () => {
  let session: Awaited<ReturnType<typeof login>>;

  beforeAll(async () => {
    session = await login(stack);
    secretsUsed['refresh token (confusion)'] = session.refresh_token;
  });

  it('a refresh token presented as a bearer access token is refused everywhere', async () => {
    expectRefusedEverywhere('refresh token as access token', await judgeEverywhere(session.refresh_token));
  });

  it('an access token presented as a refresh token is refused (REST, OAuth, NATS), and issues nothing', async () => {
    report.case('access token as refresh token');
    const [{ n: before }] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM access_tokens');
    const rest = await fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.access_token }),
    });
    report.requests('refresh via REST /auth/refresh');
    expect([400, 401]).toContain(rest.status);
    expect((await readJson<ReplyBody>(rest)).access_token).toBeUndefined();
    const oauth = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.access_token }),
    });
    report.requests('refresh via OAuth /oauth/token');
    expect(oauth.status).toBe(400);
    expect(['invalid_grant', 'invalid_request']).toContain((await readJson<OAuthErrorReply>(oauth)).error);
    const nats = await stack.natsRaw(SUBJECTS.TOKEN_REFRESH, JSON.stringify({ refresh_token: session.access_token }));
    report.requests('refresh via NATS token.refresh');
    expect(['BAD_REQUEST', 'INVALID_GRANT']).toContain(nats.headers?.get(ERROR_HEADER));
    // A 16-512 character slice of the access token fits the refresh DTO: still not a refresh token.
    const slice = session.access_token.slice(0, 400);
    const natsSlice = await stack.natsRaw(SUBJECTS.TOKEN_REFRESH, JSON.stringify({ refresh_token: slice }));
    expect(natsSlice.headers?.get(ERROR_HEADER)).toBe('INVALID_GRANT');
    const [{ n: after }] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM access_tokens');
    expect(after).toBe(before);
  });

  it('an access or refresh token presented as an API key is refused', async () => {
    report.case('access / refresh token as API key');
    for (const apiKey of [session.access_token.slice(0, 500), session.refresh_token]) {
      const r = await fetch(`${stack.url}/api/v1/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey }),
      });
      report.requests('API-key exchange via REST');
      expect([400, 401]).toContain(r.status);
    }
  });

  it('being presented in the wrong place consumed nothing: the refresh token still rotates once', async () => {
    const res = await fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
    report.requests('refresh via REST /auth/refresh');
    expect(res.status).toBe(200);
    secretsUsed['refresh token (rotated)'] = (await readJson<SessionReply>(res)).refresh_token;
  });
});

describe('refresh replay after an auth-core restart', () => {
  it('a rotated refresh token replayed after auth-core was killed and restarted is reuse: refused, family revoked, audited (REST and NATS)', async () => {
    report.case('refresh replay after auth-core SIGKILL + restart (REST and NATS)');
    const rotate = async (refresh_token: string) => {
      const r = await fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token }),
      });
      report.requests('refresh via REST /auth/refresh');
      return { status: r.status, body: (await r.json()) as { access_token: string; refresh_token: string } };
    };
    const viaRest = await login(stack);
    const viaNats = await login(stack);
    const restNext = (await rotate(viaRest.refresh_token)).body;
    const natsNext = (await rotate(viaNats.refresh_token)).body;
    Object.assign(secretsUsed, {
      'refresh r1 (REST family)': viaRest.refresh_token,
      'refresh r2 (REST family)': restNext.refresh_token,
      'refresh r1 (NATS family)': viaNats.refresh_token,
      'refresh r2 (NATS family)': natsNext.refresh_token,
    });

    const victim = stack.replicas[0];
    report.fault('auth-core SIGKILL then restart, between rotation and replay');
    await victim.stop('SIGKILL');
    // The dead replica stays in the list so its logs are still searched for secrets at the end.
    await stack.startReplica();
    await within(15000, async () => (await fetch(`${stack.url}/health/ready`)).status === 200);

    const replay = await rotate(viaRest.refresh_token);
    expect(replay.status).toBe(401);
    const msg = await stack.natsRaw(SUBJECTS.TOKEN_REFRESH, JSON.stringify({ refresh_token: viaNats.refresh_token }));
    report.requests('refresh via NATS token.refresh');
    expect(msg.headers?.get(ERROR_HEADER)).toBe('INVALID_GRANT');

    // Both families died: the fresh access tokens and the rotated-in refresh tokens.
    const natsValid = async (t: string) =>
      (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: t })).valid;
    await within(
      1000,
      async () => !(await natsValid(restNext.access_token)) && !(await natsValid(natsNext.access_token)),
    );
    expect((await rotate(restNext.refresh_token)).status).toBe(401);
    expect((await rotate(natsNext.refresh_token)).status).toBe(401);
    const audit = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE type = 'refresh.reuse_detected'`,
    );
    expect(Number(audit[0].n)).toBeGreaterThanOrEqual(2);
  }, 60000);
});

/**
 * Genuine signatures re-encoded: the same r and s in DER, the other S of the pair (ECDSA
 * malleability), base64 padding and whitespace inside segments, and a genuine EdDSA signature
 * presented as ES256 under either key. None may pass anywhere.
 */
describe('signature and encoding edge cases of genuine tokens', () => {
  const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const toHex = (n: bigint) => n.toString(16).padStart(64, '0');
  const derInt = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    const body = v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const sigOf = (token: string) => Buffer.from(token.split('.')[2], 'base64url');
  const withSig = (token: string, sig: Buffer) => `${token.split('.').slice(0, 2).join('.')}.${b64(sig)}`;

  it('the same ES256 signature in DER instead of raw r||s is refused everywhere', async () => {
    const token = (await login(stack)).access_token;
    const sig = sigOf(token);
    const seq = Buffer.concat([derInt(sig.subarray(0, 32)), derInt(sig.subarray(32))]);
    const der = Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
    expectRefusedEverywhere('ES256 signature DER-encoded', await judgeEverywhere(withSig(token, der)));
  });

  it('a revoked token stays refused in its other-S form (revocation is by jti, not by the bytes)', async () => {
    const token = (await login(stack)).access_token;
    expect((await api(stack, token).post('/api/v1/auth/logout')).status).toBe(204);
    const sig = sigOf(token);
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const other = Buffer.concat([sig.subarray(0, 32), Buffer.from(toHex(P256_N - s), 'hex')]);
    expectRefusedEverywhere('revoked token, S replaced by n - S', await judgeEverywhere(withSig(token, other)));
    expectRefusedEverywhere('revoked token as issued', await judgeEverywhere(token));
  });

  it('padding, whitespace or standard base64 inside a genuine token is refused everywhere', async () => {
    const token = (await login(stack)).access_token;
    const [h, p, sig] = token.split('.');
    const padded = (seg: string) => seg + '='.repeat((4 - (seg.length % 4)) % 4 || 4);
    const variants: Record<string, string> = {
      'padded header': `${padded(h)}.${p}.${sig}`,
      'padded signature': `${h}.${p}.${padded(sig)}`,
      'space inside the payload': `${h}.${p.slice(0, 10)} ${p.slice(10)}.${sig}`,
      'tab before the signature': `${h}.${p}.\t${sig}`,
      'signature in standard base64': `${h}.${p}.${Buffer.from(sig, 'base64url').toString('base64')}`,
      'a fourth segment': `${token}.${p}`,
    };
    for (const [name, variant] of Object.entries(variants)) {
      if (variant === token) continue;
      expectRefusedEverywhere(name, await judgeEverywhere(variant));
    }
  });

  it("a genuine EdDSA signature is refused as ES256 under its own kid or the ES256 key's", async () => {
    const esToken = (await login(stack)).access_token;
    const rotated = await api(stack, adminToken).post('/api/v1/keys/rotate', { alg: 'EdDSA' });
    expect(rotated.status).toBe(201);
    const edToken = (await login(stack)).access_token;
    expect(decode(edToken.split('.')[0])).toMatchObject({ alg: 'EdDSA', kid: rotated.body.kid });
    const [, p, sig] = edToken.split('.');
    const esKid = decode(esToken.split('.')[0]).kid;
    const cases: Record<string, object> = {
      'EdDSA signature, alg ES256, its own kid': { alg: 'ES256', typ: 'at+jwt', kid: rotated.body.kid },
      'EdDSA signature, alg EdDSA, the ES256 kid': { alg: 'EdDSA', typ: 'at+jwt', kid: esKid },
      'EdDSA signature, alg ES256, the ES256 kid': { alg: 'ES256', typ: 'at+jwt', kid: esKid },
    };
    for (const [name, header] of Object.entries(cases))
      expectRefusedEverywhere(name, await judgeEverywhere(`${json64(header)}.${p}.${sig}`));
    // Control: both genuine tokens pass everywhere.
    for (const t of [esToken, edToken]) expect((await judgeEverywhere(t)).filter((v) => !v.accepted)).toEqual([]);
  });
});

describe('aftermath', () => {
  it('no secret used here appears in clear in the logs, the database or the event stream; no 5xx or crash', async () => {
    report.case('secret scan of logs, database and events');
    const leaks = await findSecretLeaks(stack, { ...secretsUsed, 'admin password': stack.adminPassword });
    for (const l of leaks) report.error(`secret in clear: ${l.secret} in ${l.where}`);
    expect(leaks).toEqual([]);
    const killed = stack.replicas.slice(0, 1);
    const alive = stack.replicas.slice(1);
    expect(killed.every((r) => !r.running) && alive.every((r) => r.running)).toBe(true);
    expect(stack.gateway.running && sdk.proc.running).toBe(true);
    expect(stack.logs()).not.toMatch(/"level":(50|60)/);
  });
});
