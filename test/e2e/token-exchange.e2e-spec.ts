import { api, OAuthErrorReply, OAuthTokenReply, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const API_KEY_TYPE = 'urn:portcullis:params:oauth:token-type:api-key';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 8693 request parameters beyond the subject token: what the server cannot honour is refused,
 * never silently replaced by something else (an access token for a refresh token asked, a token
 * without `act` for a delegation asked). Refused before anything is issued.
 */
describe('token exchange (RFC 8693) request parameters', () => {
  const stack = new Stack();
  let apiKey: string;
  let admin: ReturnType<typeof api>;

  const exchange = (extra: Record<string, string>) =>
    fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: apiKey,
        subject_token_type: API_KEY_TYPE,
        ...extra,
      }),
    });
  const issuedCount = async () =>
    Number((await stack.query<{ n: string }>(`SELECT count(*) AS n FROM access_tokens WHERE typ = 'apikey'`))[0].n);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    expect((await admin.post('/api/v1/clients', { clientId: 'exchanger', roles: ['service'] })).status).toBe(201);
    const key = await admin.post('/api/v1/clients/exchanger/api-keys', { name: 'k' });
    expect(key.status).toBe(201);
    apiKey = key.body.apiKey as string;
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('requested_token_type: absent or access_token is served; any other type is invalid_request', async () => {
    // An empty parameter is an omitted one (RFC 6749 §3.1).
    for (const extra of [{}, { requested_token_type: ACCESS_TOKEN_TYPE }, { requested_token_type: '' }] as Array<
      Record<string, string>
    >) {
      const ok = await exchange(extra);
      expect(ok.status).toBe(200);
      expect(await readJson<OAuthTokenReply>(ok)).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE });
    }
    const before = await issuedCount();
    // Before: each of these was answered 200 with an access token and issued_token_type access_token.
    for (const type of [
      'urn:ietf:params:oauth:token-type:refresh_token',
      'urn:ietf:params:oauth:token-type:id_token',
      'urn:ietf:params:oauth:token-type:saml2',
      'urn:example:unknown',
    ]) {
      const r = await exchange({ requested_token_type: type });
      expect({ type, status: r.status }).toEqual({ type, status: 400 });
      expect(await readJson<OAuthErrorReply>(r)).toEqual({
        error: 'invalid_request',
        error_description: `requested_token_type ${type} is not supported`,
      });
    }
    expect(await issuedCount()).toBe(before);
  });

  it('actor_token (delegation) is not supported: refused, not ignored', async () => {
    const actor = (await login(stack)).access_token;
    const before = await issuedCount();
    // Before: 200 with a token that carried no trace of the actor (no `act` claim).
    for (const extra of [
      { actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE },
      { actor_token: actor },
      { actor_token_type: ACCESS_TOKEN_TYPE },
    ] as Array<Record<string, string>>) {
      const r = await exchange(extra);
      expect(r.status).toBe(400);
      expect((await readJson<OAuthErrorReply>(r)).error).toBe('invalid_request');
    }
    expect(await issuedCount()).toBe(before);
  });

  it('audience: the configured one is served; a token for another audience is invalid_target', async () => {
    expect((await exchange({ audience: '' })).status).toBe(200);
    const ok = await exchange({ audience: 'portcullis' });
    expect(ok.status).toBe(200);
    const { access_token } = await readJson<OAuthTokenReply>(ok);
    expect(JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString())).toMatchObject({
      aud: 'portcullis',
    });
    const before = await issuedCount();
    // Before: 200 with a token whose aud was still `portcullis`, which the named service refuses.
    const other = await exchange({ audience: 'billing-service' });
    expect(other.status).toBe(400);
    expect(await readJson<OAuthErrorReply>(other)).toEqual({
      error: 'invalid_target',
      error_description: 'Tokens are issued for audience portcullis only, not billing-service',
    });
    expect(await issuedCount()).toBe(before);
  });

  it('resource, and audience or resource given several times (RFC 8693 §2.1): every target must be ours', async () => {
    const exchangeMany = (targets: Array<[string, string]>) =>
      fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([
          ['grant_type', TOKEN_EXCHANGE],
          ['subject_token', apiKey],
          ['subject_token_type', API_KEY_TYPE],
          ...targets,
        ]),
      });
    // Before: two audience parameters were a 400 invalid_request (a repeated parameter), though
    // RFC 8693 lets a client name several targets.
    for (const targets of [
      [
        ['audience', 'portcullis'],
        ['audience', 'portcullis'],
      ],
      [['resource', 'portcullis']],
      [
        ['audience', 'portcullis'],
        ['resource', 'portcullis'],
      ],
    ] as Array<Array<[string, string]>>) {
      const r = await exchangeMany(targets);
      expect({ targets, status: r.status }).toEqual({ targets, status: 200 });
    }
    const before = await issuedCount();
    // Before: a `resource` was ignored, and a token for `portcullis` was issued (200) to a client
    // that asked for one the billing API would accept; several audiences were invalid_request.
    for (const [targets, named] of [
      [[['resource', 'https://billing.example/api']], 'https://billing.example/api'],
      [
        [
          ['resource', 'portcullis'],
          ['resource', 'https://billing.example/api'],
        ],
        'https://billing.example/api',
      ],
      [
        [
          ['audience', 'portcullis'],
          ['audience', 'billing-service'],
        ],
        'billing-service',
      ],
    ] as Array<[Array<[string, string]>, string]>) {
      const r = await exchangeMany(targets);
      expect({ targets, status: r.status, body: await readJson<OAuthErrorReply>(r) }).toEqual({
        targets,
        status: 400,
        body: {
          error: 'invalid_target',
          error_description: `Tokens are issued for audience portcullis only, not ${named}`,
        },
      });
    }
    expect(await issuedCount()).toBe(before);
  });

  it('the bearer an API key is exchanged for ends no later than the key', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000).toISOString();
    const key = await admin.post('/api/v1/clients/exchanger/api-keys', { name: 'short', expiresAt });
    expect(key.status).toBe(201);
    const native = await fetch(`${stack.url}/api/v1/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: key.body.apiKey }),
    });
    const oauth = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: key.body.apiKey,
        subject_token_type: API_KEY_TYPE,
      }),
    });
    for (const r of [native, oauth]) {
      expect(r.status).toBe(200);
      const body = await readJson<OAuthTokenReply>(r);
      const { exp, iat } = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString()) as {
        exp: number;
        iat: number;
      };
      // Before: API_KEY_TOKEN_TTL (300 s) whatever the key's expiry, so the bearer outlived the key
      // by up to four minutes here.
      expect(exp).toBeLessThanOrEqual(Date.parse(expiresAt) / 1000);
      expect(body.expires_in).toBe(exp - iat);
    }
  });

  it('a scope asked is not narrowed to: the reply says what was granted (RFC 8693 §2.2.1)', async () => {
    // Before: no `scope` in the reply, though the token carried something else than was asked.
    const other = await readJson<OAuthTokenReply>(await exchange({ scope: 'tokens:read' }));
    expect(other.scope).toBe('service');
    const same = await readJson<OAuthTokenReply>(await exchange({ scope: 'service' }));
    expect(same).not.toHaveProperty('scope');
    expect(await readJson<OAuthTokenReply>(await exchange({}))).not.toHaveProperty('scope');
  });

  it("a key exchanged here is recorded as used from the caller's address, as on POST /api/v1/auth", async () => {
    // Before: this grant handed auth-core no address, so a key used only here (a stolen one, say)
    // never raised apikey.used_from_new_ip and its last address was never recorded.
    const key = await admin.post('/api/v1/clients/exchanger/api-keys', { name: 'watched' });
    expect(key.status).toBe(201);
    const res = await fetch(`${stack.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: key.body.apiKey as string,
        subject_token_type: API_KEY_TYPE,
      }),
    });
    expect(res.status).toBe(200);
    const events = (
      (await admin.get('/api/v1/audit?type=apikey.used_from_new_ip&limit=100')).body.items as Array<{
        data: { id: string; ip: string; previousIp: string | null };
      }>
    ).filter((e) => e.data.id === key.body.id);
    expect(events.map((e) => e.data)).toEqual([{ id: key.body.id, ip: '127.0.0.1', previousIp: null }]);
    const [row] = await stack.query<{ last_used_ip: string | null }>(
      `SELECT last_used_ip FROM api_keys WHERE id = $1`,
      [key.body.id],
    );
    expect(row.last_used_ip).toBe('127.0.0.1');
  });
});
