import { clientHelpers } from '../support/clients';
import { api, INSUFFICIENT_SCOPE, REFUSED, refusal, request } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * What a client holds when it is disabled, enabled again, deleted and its id taken again: its own
 * tokens, its API keys, the bearers they were exchanged for and what those minted for another
 * client — all refused at once over NATS and REST validate; an enable brings back its keys (and
 * issuing), nothing revoked; a delete takes the keys with it.
 */
describe('disabling, enabling and deleting a client: its API keys and what they minted', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { everywhere, createClient, cc } = clientHelpers(stack, () => admin);

  const restValidate = async (token: string) =>
    (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } })).status;
  const exchange = async (apiKey: string) => {
    const r = await fetch(`${stack.url}/api/v1/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
    return { status: r.status, body: (await r.json()) as { access_token?: string; message?: string } };
  };

  /** A bearer exchanged for the key, and a token and an extended token it minted for `svc`. */
  const minted = async (apiKey: string) => {
    const bearer = (await exchange(apiKey)).body.access_token!;
    const viaKey = api(stack, bearer);
    const forClient = await viaKey.post('/api/v1/tokens', { client_id: 'svc' });
    const extended = await viaKey.post('/api/v1/auth/extended-token', { clientId: 'svc', expiry: 3600 });
    expect([forClient.status, extended.status]).toEqual([201, 200]);
    const tokens: Record<string, string> = {
      "the key's bearer": bearer,
      'token the bearer minted for another client': forClient.body.access_token as string,
      'extended token the bearer minted for another client': extended.body.access_token as string,
    };
    for (const [name, token] of Object.entries(tokens)) {
      await everywhere(token, true).catch(() => {
        throw new Error(`${name} is not valid to begin with`);
      });
    }
    return tokens;
  };

  const expectRefused = async (tokens: Record<string, string>) => {
    for (const [name, token] of Object.entries(tokens)) {
      await everywhere(token, false).catch(() => {
        throw new Error(`${name} is still valid over NATS`);
      });
      expect({ name, rest: await restValidate(token) }).toEqual({ name, rest: 401 });
    }
  };

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    await createClient('svc');
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('disabled: its tokens, keys and what they minted refused; enabled again: the keys work, nothing revoked does', async () => {
    const ops = await createClient('ops', ['admin']);
    const key = await admin.post('/api/v1/clients/ops/api-keys', { name: 'deploy' });
    expect(key.status).toBe(201);
    const own = ((await (await cc('ops', ops.client_secret)).json()) as { access_token: string }).access_token;
    const tokens = { 'its own token': own, ...(await minted(key.body.apiKey as string)) };

    expect((await admin.post('/api/v1/clients/ops/disable')).status).toBe(200);
    await expectRefused(tokens);
    expect(await exchange(key.body.apiKey as string)).toMatchObject({
      status: 401,
      body: { message: 'Unauthenticated' },
    });

    expect((await admin.post('/api/v1/clients/ops/enable')).status).toBe(200);
    const again = await exchange(key.body.apiKey as string);
    expect(again.status).toBe(200);
    await everywhere(again.body.access_token!, true);
    await expectRefused(tokens);
  });

  // Registration is off here: the stack sets no CLIENT_REGISTRATION_TOKEN.
  it('refused for what the body asks (a disabled client, roles it lacks, registration off): 403 with no insufficient_scope', async () => {
    await createClient('parked');
    expect((await admin.post('/api/v1/clients/parked/disable')).status).toBe(200);
    const asked = {
      'a token for a disabled client': await admin.post('/api/v1/tokens', { client_id: 'parked' }),
      'an extended token for a disabled client': await admin.post('/api/v1/auth/extended-token', {
        clientId: 'parked',
        expiry: 3600,
      }),
      'a token for another client with a role it lacks': await admin.post('/api/v1/tokens', {
        client_id: 'svc',
        roles: ['system'],
      }),
      'self-registration while it is off': await request(
        stack,
        'POST',
        '/api/v1/clients/register',
        { clientId: 'self-1' },
        'registration-token-for-tests-0123',
      ),
    };
    const seen = Object.fromEntries(Object.entries(asked).map(([k, r]) => [k, refusal(r)]));
    expect(seen).toEqual(Object.fromEntries(Object.keys(asked).map((k) => [k, REFUSED])));
    // A role its own narrowed token lacks: a token with that role would pass.
    const narrowed = (await admin.post('/api/v1/tokens', { roles: ['user'] })).body.access_token as string;
    expect(refusal(await api(stack, narrowed).post('/api/v1/tokens', { roles: ['system'] }))).toEqual(
      INSUFFICIENT_SCOPE,
    );
  });

  it('deleted: what its keys minted for another client is refused too, and a client re-created under its id revives nothing', async () => {
    const ops = await createClient('ops2', ['admin']);
    const key = await admin.post('/api/v1/clients/ops2/api-keys', { name: 'deploy' });
    expect(key.status).toBe(201);
    const own = ((await (await cc('ops2', ops.client_secret)).json()) as { access_token: string }).access_token;
    const tokens = { 'its own token': own, ...(await minted(key.body.apiKey as string)) };

    expect((await admin.del('/api/v1/clients/ops2')).status).toBe(204);
    await expectRefused(tokens);
    expect((await exchange(key.body.apiKey as string)).status).toBe(401);

    await createClient('ops2', ['admin']);
    await expectRefused(tokens);
    expect((await exchange(key.body.apiKey as string)).status).toBe(401);
  });
});
