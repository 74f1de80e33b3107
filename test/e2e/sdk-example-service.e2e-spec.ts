import { request as httpRequest } from 'node:http';
import { SUBJECTS } from '@portcullis/contracts';
import { api, inDays } from '../support/fixtures';
import { login, ManagedProcess, Stack, startExampleService, within } from '../support/stack';
import { startPrivateNats } from '../support/private-nats';

const call = async (url: string, token?: string, method = 'GET', body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

/** GET with the Authorization fields given, each its own header line (fetch would join them into one). */
const rawGet = (url: string, authorization: string[]) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const headers = [
      'Host',
      new URL(url).host,
      'Connection',
      'close',
      ...authorization.flatMap((v) => ['Authorization', v]),
    ];
    const req = httpRequest(url, { headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`${res.statusCode}: ${text}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });

describe('cluster SDK through the example service (issue #7)', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  let local: { proc: ManagedProcess; url: string };
  let remote: { proc: ManagedProcess; url: string };
  const clientToken = async (clientId: string, roles?: string[]) =>
    (await admin.post('/api/v1/tokens', { client_id: clientId, ...(roles ? { roles } : {}) })).body as {
      access_token: string;
      tid: string;
    };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    await admin.post('/api/v1/clients', { clientId: 'writer', roles: ['widget-writer', 'service'], tenants: ['acme'] });
    await admin.post('/api/v1/clients', { clientId: 'reader', roles: ['service'], tenants: ['globex'] });
    local = await startExampleService(stack, 'local');
    remote = await startExampleService(stack, 'remote');
  }, 90000);
  afterAll(async () => {
    await Promise.all([local?.proc.stop(), remote?.proc.stop()]);
    await stack.stop();
  }, 60000);

  it('valid token → 200 in both modes; missing or garbage → 401 in the envelope', async () => {
    const t = await clientToken('writer');
    for (const url of [`${local.url}/widgets`, `${local.url}/widgets/remote`, `${remote.url}/widgets`]) {
      const ok = await call(url, t.access_token);
      expect(ok.status).toBe(200);
      expect(ok.body.caller.sub).toBe('writer');
      expect((await call(url)).body).toMatchObject({ statusCode: 401, status: 'UNAUTHENTICATED' });
      expect((await call(url, 'garbage.token.here')).status).toBe(401);
      expect((await call(url, 'not-even-a-jwt')).status).toBe(401);
    }
  });

  it('lacking a role, a permission or the tenant → 403', async () => {
    const writer = await clientToken('writer');
    const reader = await clientToken('reader');
    const adminToken = (await login(stack)).access_token;
    for (const svc of [local, remote]) {
      expect((await call(`${svc.url}/widgets`, writer.access_token, 'POST', { name: 'gear' })).status).toBe(201);
      const noRole = await call(`${svc.url}/widgets`, reader.access_token, 'POST', { name: 'gear' });
      expect(noRole.body).toMatchObject({
        statusCode: 403,
        status: 'FORBIDDEN',
        message: 'Missing role: widget-writer',
      });
      expect((await call(`${svc.url}/widgets/audit`, writer.access_token)).status).toBe(403);
      expect((await call(`${svc.url}/widgets/audit`, adminToken)).status).toBe(200);
      expect((await call(`${svc.url}/widgets/tenants/acme`, writer.access_token)).status).toBe(200);
      expect((await call(`${svc.url}/widgets/tenants/acme`, reader.access_token)).status).toBe(403);
    }
  });

  it('several Authorization headers → 400, as the gateway answers (Node keeps the first, a proxy may read the last)', async () => {
    const writer = await clientToken('writer');
    for (const svc of [local, remote]) {
      expect((await rawGet(`${svc.url}/widgets`, [`Bearer ${writer.access_token}`])).status).toBe(200);
      const twice = await rawGet(`${svc.url}/widgets`, [`Bearer ${writer.access_token}`, 'Bearer other']);
      expect({ status: twice.status, body: twice.body }).toMatchObject({
        status: 400,
        body: { statusCode: 400, status: 'BAD_REQUEST' },
      });
    }
  });

  it('a revoked token and a disabled client are refused within 1 s in both modes', async () => {
    const t = await clientToken('writer');
    expect((await call(`${local.url}/widgets`, t.access_token)).status).toBe(200);
    expect((await call(`${remote.url}/widgets`, t.access_token)).status).toBe(200);
    expect((await admin.del(`/api/v1/tokens/${t.tid}`)).status).toBe(204);
    await within(
      1000,
      async () =>
        (await call(`${local.url}/widgets`, t.access_token)).status === 401 &&
        (await call(`${remote.url}/widgets`, t.access_token)).status === 401,
    );

    const r = await clientToken('reader');
    expect((await call(`${local.url}/widgets`, r.access_token)).status).toBe(200);
    expect((await call(`${remote.url}/widgets`, r.access_token)).status).toBe(200);
    await admin.post('/api/v1/clients/reader/disable');
    await within(
      1000,
      async () =>
        (await call(`${local.url}/widgets`, r.access_token)).status === 401 &&
        (await call(`${remote.url}/widgets`, r.access_token)).status === 401,
    );
    await admin.post('/api/v1/clients/reader/enable');
  });

  it('signing key rotated: new tokens accepted, old ones until they expire', async () => {
    const before = await clientToken('writer');
    const rotated = await admin.post('/api/v1/keys/rotate');
    expect(rotated.status).toBe(201);
    const after = await clientToken('writer');
    const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid;
    expect(kid(after.access_token)).toBe(rotated.body.kid);
    expect(kid(after.access_token)).not.toBe(kid(before.access_token));
    for (const svc of [local, remote]) {
      await within(1000, async () => (await call(`${svc.url}/widgets`, after.access_token)).status === 200);
      expect((await call(`${svc.url}/widgets`, before.access_token)).status).toBe(200);
    }
    const keys = await admin.get('/api/v1/keys');
    expect(keys.body.items.map((k: { status: string }) => k.status).sort()).toEqual(['active', 'retired']);
  });

  it('a token of a key rotated in a moment ago is accepted at once in local mode, even just after a JWKS refetch', async () => {
    // A token naming a kid no one knows makes local mode refetch the JWKS (then not again for 5 s).
    const [, p, sig] = (await clientToken('writer')).access_token.split('.');
    const unknown = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'no-such-key' })).toString('base64url')}.${p}.${sig}`;
    expect((await call(`${local.url}/widgets`, unknown)).status).toBe(401);
    const rotated = await admin.post('/api/v1/keys/rotate');
    expect(rotated.status).toBe(201);
    const fresh = (await clientToken('writer')).access_token;
    // Was 401 until the rotation event's own JWKS fetch happened to be done (100 ms and more).
    expect((await call(`${local.url}/widgets`, fresh)).status).toBe(200);
    expect((await call(`${remote.url}/widgets`, fresh)).status).toBe(200);
  });

  it('a rotation to EdDSA and back: an OKP key in the JWKS, its tokens accepted on every path at once', async () => {
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString());
    const acceptedEverywhere = async (token: string) => {
      const nats = (await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, JSON.stringify({ token }))).json<{ valid: boolean }>();
      return {
        nats: nats.valid,
        restGet: (await call(`${stack.url}/api/v1/auth/validate`, token)).status,
        restPost: (await call(`${stack.url}/api/v1/auth/validate`, undefined, 'POST', { token })).status,
        sdkLocal: (await call(`${local.url}/widgets`, token)).status,
        sdkRemote: (await call(`${remote.url}/widgets`, token)).status,
      };
    };
    const everywhere = { nats: true, restGet: 200, restPost: 200, sdkLocal: 200, sdkRemote: 200 };
    const es = (await clientToken('writer')).access_token;

    const rotated = await admin.post('/api/v1/keys/rotate', { alg: 'EdDSA' });
    // Was 400 "property alg should not exist": SPEC allows EdDSA, yet no key could ever have it.
    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({ kid: expect.any(String), alg: 'EdDSA' });
    const ed = (await clientToken('writer')).access_token;
    expect(header(ed)).toMatchObject({ alg: 'EdDSA', kid: rotated.body.kid, typ: 'at+jwt' });
    expect(await acceptedEverywhere(ed)).toEqual(everywhere);
    expect(await acceptedEverywhere(es)).toEqual(everywhere);

    const jwks = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys.find((k) => k.kid === rotated.body.kid)).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.any(String),
      kid: rotated.body.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(jwks.keys.find((k) => k.kid === header(es).kid)).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: header(es).kid,
      alg: 'ES256',
      use: 'sig',
    });

    // The key decides the algorithm: the EdDSA token's signature under the ES256 key's kid is refused.
    const [, payload, signature] = ed.split('.');
    const swapped = `${Buffer.from(JSON.stringify({ ...header(ed), kid: header(es).kid })).toString('base64url')}.${payload}.${signature}`;
    expect(await acceptedEverywhere(swapped)).toEqual({
      nats: false,
      restGet: 401,
      restPost: 401,
      sdkLocal: 401,
      sdkRemote: 401,
    });

    // Without a body the rotation takes SIGNING_ALGORITHM (ES256 by default): back from EdDSA.
    const back = await admin.post('/api/v1/keys/rotate');
    expect(back.body).toEqual({ kid: expect.any(String), alg: 'ES256' });
    const es2 = (await clientToken('writer')).access_token;
    expect(header(es2)).toMatchObject({ alg: 'ES256', kid: back.body.kid });
    for (const token of [es2, ed, es]) expect(await acceptedEverywhere(token)).toEqual(everywhere);
  });

  it('a PAT in local mode is checked remotely', async () => {
    const pat = (
      await admin.post('/api/v1/users/me/tokens', {
        name: 'sdk',
        expiresAt: inDays(1),
        permissions: ['audit:read'],
        tenants: [],
      })
    ).body.token;
    expect((await call(`${local.url}/widgets/audit`, pat)).status).toBe(200);
    expect((await call(`${local.url}/widgets`, `${pat}x`)).status).toBe(401);
  });
});

describe('SDK when auth-core or NATS go away (issue #7)', () => {
  let nats: Awaited<ReturnType<typeof startPrivateNats>>;
  let stack: Stack;
  let local: { proc: ManagedProcess; url: string };
  let remote: { proc: ManagedProcess; url: string };
  let admin: ReturnType<typeof api>;

  beforeAll(async () => {
    nats = await startPrivateNats();
    stack = new Stack({ replicas: 1, natsUrl: nats.url });
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] });
    local = await startExampleService(stack, 'local', { AUTH_STALENESS_MS: '4000' });
    remote = await startExampleService(stack, 'remote');
  }, 90000);
  afterAll(async () => {
    await Promise.all([local?.proc.stop(), remote?.proc.stop()]);
    await stack?.stop();
    await nats?.dispose();
  }, 60000);

  it('NATS restarted: the client reconnects and catches up on revocations', async () => {
    const keep = (await admin.post('/api/v1/tokens', { client_id: 'svc' })).body;
    const doomed = (await admin.post('/api/v1/tokens', { client_id: 'svc' })).body;
    expect((await call(`${local.url}/widgets`, doomed.access_token)).status).toBe(200);
    await nats.restart();
    await within(15000, async () => (await fetch(`${stack.url}/health/ready`)).status === 200);
    // The gateway can be back before auth-core has reconnected: until then the revocation answers
    // 503, and a caller retries it (revocation is idempotent).
    await within(15000, async () => (await admin.del(`/api/v1/tokens/${doomed.tid}`)).status === 204);
    await within(5000, async () => (await call(`${local.url}/widgets`, doomed.access_token)).status === 401);
    await within(5000, async () => (await call(`${local.url}/widgets`, keep.access_token)).status === 200);
  });

  it('auth-core stopped: remote fails closed with 503; local keeps validating JWTs until its staleness bound', async () => {
    const t = (await admin.post('/api/v1/tokens', { client_id: 'svc' })).body.access_token;
    const pat = (
      await admin.post('/api/v1/users/me/tokens', { name: 'down', expiresAt: inDays(1), permissions: [], tenants: [] })
    ).body.token;
    await within(3000, async () => (await call(`${local.url}/widgets`, t)).status === 200);
    for (const r of stack.replicas) await r.stop('SIGKILL');
    const stoppedAt = Date.now();
    expect((await call(`${remote.url}/widgets`, t)).body).toMatchObject({ statusCode: 503, status: 'UNAVAILABLE' });
    expect((await call(`${local.url}/widgets`, t)).status).toBe(200);
    expect((await call(`${local.url}/widgets`, pat)).status).toBe(503);
    await within(8000, async () => (await call(`${local.url}/widgets`, t)).status === 503);
    expect(Date.now() - stoppedAt).toBeGreaterThan(2500);
  });
});
