import { SUBJECTS, ValidateTokenReply } from '@portcullis/contracts';
import type { AuthClient } from '@portcullis/auth-client';
import { api, clientCredentialsToken } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * One token, one requirement, one answer, whoever is asked: `auth.v1.token.validate` (on auth-core's
 * main thread, or on VERIFY_WORKERS threads), `POST /api/v1/auth/validate` (the gateway, which
 * verifies JWTs itself) and the SDK in local and in remote mode. A table of tokens of every kind
 * (and credentials that are not access tokens) × requirements; each answer reduced to `valid <typ>`
 * or the refusal's code and message.
 */

const REQUIREMENTS: Array<[string, Record<string, unknown>]> = [
  ['no requirement', {}],
  ['role admin', { roles: ['admin'] }],
  ['role user', { roles: ['user'] }],
  ['roles user and service (all of them)', { roles: ['user', 'service'] }],
  ['permission tokens:read', { permissions: ['tokens:read'] }],
  ['permission keys:admin', { permissions: ['keys:admin'] }],
  ['tenant acme', { tenant: 'acme' }],
  ['tenant other', { tenant: 'other' }],
  ['tenant non-ASCII', { tenant: 'zürich' }],
  ['empty roles', { roles: [] }],
  ['a role named twice', { roles: ['user', 'user'] }],
  // Requests the NATS contract refuses: the SDK's local mode must refuse them alike.
  ['tenant over 128 characters', { tenant: 't'.repeat(200) }],
  ['33 roles', { roles: Array.from({ length: 33 }, (_, i) => `r${i}`) }],
  ['an empty role name', { roles: [''] }],
  ['a permission over 64 characters', { permissions: ['p'.repeat(65)] }],
  ['an empty permission name', { permissions: [''] }],
];

/** Malformed payloads: `{valid:false, error:{code:"BAD_REQUEST"}}`, never an error reply or silence. */
const MALFORMED: Array<[string, string | Uint8Array]> = [
  ['bytes that are no JSON', new Uint8Array([0xff, 0xfe, 0x00, 0x7b])],
  ['an empty payload', ''],
  ['null', 'null'],
  ['an array', '[]'],
  ['a string', '"abc"'],
  ['a number', '42'],
  ['token a number', '{"token":42}'],
  ['token empty', '{"token":""}'],
  ['token null', '{"token":null}'],
  ['token an array', '{"token":["a"]}'],
  ['token over 8192 characters', JSON.stringify({ token: 'a'.repeat(500_000) })],
  ['roles a string', '{"token":"x","roles":"admin"}'],
  ['roles of numbers', '{"token":"x","roles":[1,2]}'],
  ['roles null', '{"token":"x","roles":null}'],
  ['roles nested', '{"token":"x","roles":[["admin"]]}'],
  ['permissions an object', '{"token":"x","permissions":{"a":1}}'],
  ['tenant a number', '{"token":"x","tenant":5}'],
  ['tenant null', '{"token":"x","tenant":null}'],
  ['tenant empty', '{"token":"x","tenant":""}'],
  ['tenant an array', '{"token":"x","tenant":["acme"]}'],
  ['an unknown field', '{"token":"x","foo":1}'],
  ['__proto__', '{"token":"x","__proto__":{"admin":true}}'],
  ['an auth field', '{"token":"x","auth":"x"}'],
];

type Answers = Record<'nats' | 'rest' | 'restGet' | 'local' | 'remote', string>;

describe.each([
  ['main thread', {}],
  ['VERIFY_WORKERS=2', { VERIFY_WORKERS: '2' }],
])('validation agrees everywhere (auth-core %s)', (_label, env) => {
  const stack = new Stack({ replicas: 1, env });
  const tokens: Record<string, string> = {};
  let sdk: { local: AuthClient; remote: AuthClient } | undefined;

  /** The SDK compiled against this stack's subject prefix (SUBJECTS is read once, at import). */
  async function sdkFor(s: Stack) {
    process.env.NATS_SUBJECT_PREFIX = s.prefix;
    let mod!: { AuthClient: typeof AuthClient };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => (mod = require('@portcullis/auth-client')));
    } finally {
      delete process.env.NATS_SUBJECT_PREFIX;
    }
    const [local, remote] = await Promise.all([
      mod.AuthClient.create({ natsUrl: s.natsUrl, mode: 'local' }),
      mod.AuthClient.create({ natsUrl: s.natsUrl, mode: 'remote', cacheSize: 0 }),
    ]);
    return { local, remote };
  }

  beforeAll(async () => {
    await stack.start();
    sdk = await sdkFor(stack);
    const session = await login(stack);
    const admin = api(stack, session.access_token);
    tokens['admin user'] = session.access_token;
    tokens['refresh token'] = session.refresh_token;
    const user = { username: 'alice', password: 'alice-password-123', roles: ['user'], tenants: ['acme'] };
    expect((await admin.post('/api/v1/users', user)).status).toBe(201);
    const alice = await login(stack, user.username, user.password);
    tokens['user'] = alice.access_token;
    const svc = await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'], tenants: ['acme'] });
    expect(svc.status).toBe(201);
    tokens['client secret'] = svc.body.client_secret as string;
    tokens['client'] = await clientCredentialsToken(stack, 'svc', tokens['client secret']);
    const system = await admin.post('/api/v1/auth/system-token');
    expect(system.status).toBe(200);
    tokens['system'] = system.body.access_token as string;
    const extended = await admin.post('/api/v1/auth/extended-token', { clientId: 'svc', expiry: 3600 });
    expect(extended.status).toBe(200);
    tokens['extended'] = extended.body.access_token as string;
    const key = await admin.post('/api/v1/clients/svc/api-keys', { name: 'k' });
    expect(key.status).toBe(201);
    tokens['api key'] = key.body.apiKey as string;
    const exchanged = await api(stack).post('/api/v1/auth', { apiKey: tokens['api key'] });
    expect(exchanged.status).toBe(200);
    tokens["api key's bearer"] = exchanged.body.access_token as string;
    const pat = await api(stack, alice.access_token).post('/api/v1/users/me/tokens', {
      name: 'ro',
      permissions: ['tokens:read'],
    });
    expect(pat.status).toBe(201);
    tokens['PAT'] = pat.body.token as string;
    const adminPat = await admin.post('/api/v1/users/me/tokens', { name: 'ro', permissions: ['tokens:read'] });
    expect(adminPat.status).toBe(201);
    tokens["admin's read-only PAT"] = adminPat.body.token as string;
    const scoped = await admin.post('/api/v1/tokens', { roles: ['user'] });
    expect(scoped.status).toBe(201);
    tokens['narrowed to role user'] = scoped.body.access_token as string;
    const revoked = await admin.post('/api/v1/tokens', {});
    tokens['revoked'] = revoked.body.access_token as string;
    expect((await admin.del(`/api/v1/tokens/${revoked.body.tid}`)).status).toBe(204);
    tokens['garbage'] = 'not-a-token';
    tokens['JWT over 8192 characters'] = `${tokens['user']}${'A'.repeat(9000)}`;
    tokens['made-up PAT'] = `pcl_pat_${'x'.repeat(40)}`;
  }, 120000);

  afterAll(async () => {
    await sdk?.local.close();
    await sdk?.remote.close();
    await stack.stop();
  }, 60000);

  const outcome = (r: ValidateTokenReply): string =>
    r.valid ? `valid ${r.claims.typ}` : `${r.error.code}: ${r.error.message}`;

  async function answers(token: string, req: Record<string, unknown>): Promise<Answers> {
    const rest = await api(stack).post('/api/v1/auth/validate', { token, ...req });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req)) for (const one of [v].flat()) query.append(k, String(one));
    const got = await fetch(`${stack.url}/api/v1/auth/validate?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const restGet = (await got.json()) as { valid?: boolean; claims: { typ: string }; status: string; message: string };
    return {
      restGet: restGet.valid ? `valid ${restGet.claims.typ}` : `${restGet.status}: ${restGet.message}`,
      nats: outcome(await stack.natsRequest<ValidateTokenReply>(SUBJECTS.TOKEN_VALIDATE, { token, ...req })),
      rest: rest.body.valid ? `valid ${rest.body.claims.typ}` : `${rest.body.status}: ${rest.body.message}`,
      local: outcome(await sdk!.local.validate(token, req)),
      remote: outcome(await sdk!.remote.validate(token, req)),
    };
  }

  it('NATS, REST and the SDK (local and remote) give the same answer for every token × requirement', async () => {
    const disagreements: Array<{ token: string; requirement: string } & Answers> = [];
    for (const [name, token] of Object.entries(tokens))
      for (const [requirement, req] of REQUIREMENTS) {
        const a = await answers(token, req);
        // A bearer too long to be a token is the header's fault (401), a body field's 400.
        if (name === 'JWT over 8192 characters') a.restGet = a.rest;
        if (new Set(Object.values(a)).size > 1) disagreements.push({ token: name, requirement, ...a });
      }
    expect(disagreements).toEqual([]);
  }, 120000);

  it('the answers are the documented ones', async () => {
    const expected: Array<[string, string, string]> = [
      ['user', 'no requirement', 'valid user'],
      ['user', 'roles user and service (all of them)', 'FORBIDDEN: Missing role: service'],
      ['user', 'tenant other', 'FORBIDDEN: Token is not valid for tenant other'],
      ['user', 'permission keys:admin', 'FORBIDDEN: Missing permission: keys:admin'],
      ['admin user', 'permission keys:admin', 'valid user'],
      ['admin user', 'tenant other', 'valid user'],
      ["admin's read-only PAT", 'role admin', 'FORBIDDEN: Missing role: admin'],
      ['client', 'tenant acme', 'valid client'],
      ['system', 'no requirement', 'valid system'],
      ["api key's bearer", 'no requirement', 'valid apikey'],
      ['extended', 'tenant acme', 'valid extended'],
      ['extended', 'tenant other', 'FORBIDDEN: Token is not valid for tenant other'],
      ['PAT', 'permission tokens:read', 'valid pat'],
      ['revoked', 'no requirement', 'UNAUTHENTICATED: Token has been revoked'],
      ['user', 'tenant over 128 characters', 'BAD_REQUEST: Invalid request: tenant'],
      ['JWT over 8192 characters', 'no requirement', 'BAD_REQUEST: Invalid request: token'],
      ['user', 'an empty role name', 'BAD_REQUEST: Invalid request: roles'],
      ['user', 'an empty permission name', 'BAD_REQUEST: Invalid request: permissions'],
    ];
    for (const [name, requirement, answer] of expected) {
      const req = REQUIREMENTS.find(([label]) => label === requirement)![1];
      expect({ name, requirement, ...(await answers(tokens[name], req)) }).toEqual({
        name,
        requirement,
        nats: answer,
        rest: answer,
        restGet: name === 'JWT over 8192 characters' ? 'UNAUTHENTICATED: Token is malformed' : answer,
        local: answer,
        remote: answer,
      });
    }
    // A refresh token, an API key, a client secret or a made-up PAT given as `token`: one answer
    // for all of them, which says nothing of what the credential is.
    const refusals = new Set<string>();
    for (const name of ['refresh token', 'api key', 'client secret', 'made-up PAT', 'garbage'])
      for (const answer of Object.values(await answers(tokens[name], {}))) refusals.add(answer);
    expect([...refusals]).toEqual(['UNAUTHENTICATED: Token is malformed']);
  });

  it('the SDK given no string as token (a plain JavaScript caller) answers BAD_REQUEST in both modes, as NATS does', async () => {
    for (const token of [undefined, null, 42, { a: 1 }] as unknown as string[]) {
      const nats = await stack.natsRequest<ValidateTokenReply>(SUBJECTS.TOKEN_VALIDATE, { token });
      const local = await Promise.resolve()
        .then(() => sdk!.local.validate(token))
        .catch((e: Error) => `threw ${e.message}`);
      const remote = await Promise.resolve()
        .then(() => sdk!.remote.validate(token))
        .catch((e: Error) => `threw ${e.message}`);
      const answer = (r: ValidateTokenReply | string) => (typeof r === 'string' ? r : outcome(r));
      expect({ token, nats: outcome(nats), local: answer(local), remote: answer(remote) }).toEqual({
        token,
        nats: 'BAD_REQUEST: Invalid request: token',
        local: 'BAD_REQUEST: Invalid request: token',
        remote: 'BAD_REQUEST: Invalid request: token',
      });
    }
  });

  it('a malformed request is answered BAD_REQUEST (never an error reply, never silence)', async () => {
    for (const [label, payload] of MALFORMED) {
      const msg = await stack.natsRaw(SUBJECTS.TOKEN_VALIDATE, payload, 3000);
      expect({ label, header: msg.headers?.get('Portcullis-Error') ?? null, ...msg.json<object>() }).toMatchObject({
        label,
        header: null,
        valid: false,
        error: { code: 'BAD_REQUEST' },
      });
    }
  });
});
