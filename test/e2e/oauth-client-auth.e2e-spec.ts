import { clientHelpers } from '../support/clients';
import { api, OAuthErrorReply, readJson } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * Client authentication at the OAuth endpoints (RFC 6749 §2.3, §5.2): one method per request,
 * Basic credentials form-urlencoded inside, the challenge a 401 carries, and no caching of replies.
 */
describe('OAuth client authentication', () => {
  const stack = new Stack({ replicas: 1 });
  let admin: ReturnType<typeof api>;
  let secret: string;
  const { form, basic, createClient } = clientHelpers(stack, () => admin);
  const raw = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
  const cc = { grant_type: 'client_credentials' };
  const outcome = async (res: Response) => ({
    status: res.status,
    error: res.status === 200 ? undefined : (await readJson<OAuthErrorReply>(res)).error,
    challenge: res.headers.get('www-authenticate'),
  });

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    secret = (await createClient('ns:svc.a', ['service'])).client_secret;
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a caller with no credentials at all gets 401 invalid_client and a Basic challenge', async () => {
    const challenge = 'Basic realm="portcullis"';
    for (const [path, params] of [
      ['/oauth/introspect', { token: 'whatever' }],
      ['/oauth/revoke', { token: 'whatever' }],
      ['/oauth/token', cc],
      ['/oauth/token', { ...cc, client_id: 'ns:svc.a' }],
    ] as Array<[string, Record<string, string>]>)
      expect({ path, ...(await outcome(await form(path, params))) }).toEqual({
        path,
        status: 401,
        error: 'invalid_client',
        challenge,
      });
    // A refresh token of a session the client asked for with its secret, presented without any
    // client credentials: the client must authenticate (RFC 6749 §6), and is told how.
    const session = await readJson<{ refresh_token: string }>(
      await form(
        '/oauth/token',
        { grant_type: 'password', username: 'admin', password: stack.adminPassword },
        basic('ns:svc.a', secret),
      ),
    );
    expect(
      await outcome(await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: session.refresh_token })),
    ).toEqual({ status: 401, error: 'invalid_client', challenge });
    // Wrong Basic credentials: challenged; a failed client_secret_post is not (openid-client
    // would read the challenge instead of the error).
    expect(await outcome(await form('/oauth/introspect', { token: 'x' }, basic('ns:svc.a', 'wrong')))).toEqual({
      status: 401,
      error: 'invalid_client',
      challenge,
    });
    expect(
      await outcome(await form('/oauth/introspect', { token: 'x', client_id: 'ns:svc.a', client_secret: 'wrong' })),
    ).toEqual({ status: 401, error: 'invalid_client', challenge: null });
  });

  it('one method per request: a second one is invalid_request, even beside an unreadable Basic header', async () => {
    const post = { ...cc, client_id: 'ns:svc.a', client_secret: secret };
    expect((await outcome(await form('/oauth/token', post))).status).toBe(200);
    for (const authorization of [basic('ns:svc.a', secret).authorization, 'Basic !!!', 'Basic'])
      expect({ authorization, ...(await outcome(await form('/oauth/token', post, { authorization }))) }).toMatchObject({
        authorization,
        status: 400,
        error: 'invalid_request',
      });
    // An unreadable Basic header alone is invalid_client.
    expect(await outcome(await form('/oauth/token', cc, { authorization: 'Basic !!!' }))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('Basic credentials are form-urlencoded: encoded characters, a `:` in the id, several spaces after the scheme', async () => {
    const everyChar = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    expect((await outcome(await form('/oauth/token', cc, basic('ns:svc.a', secret)))).status).toBe(200);
    expect((await outcome(await form('/oauth/token', cc, raw(`ns%3Asvc.a:${everyChar(secret)}`)))).status).toBe(200);
    const spaced = `Basic    ${Buffer.from(`ns%3Asvc.a:${secret}`).toString('base64')}`;
    expect((await outcome(await form('/oauth/token', cc, { authorization: spaced }))).status).toBe(200);
    // Not encoded, the id's own colon ends it: another client, which does not authenticate.
    expect(await outcome(await form('/oauth/token', cc, raw(`ns:svc.a:${secret}`)))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('token and introspection replies are never cached, errors included', async () => {
    const noStore = (res: Response) => ({
      status: res.status,
      cacheControl: res.headers.get('cache-control'),
      pragma: res.headers.get('pragma'),
    });
    const json = (body: string) =>
      fetch(`${stack.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (const [label, res] of [
      ['issued', await form('/oauth/token', cc, basic('ns:svc.a', secret))],
      ['invalid_request', await form('/oauth/token', {})],
      ['invalid_client', await form('/oauth/token', cc, basic('ns:svc.a', 'wrong'))],
      ['bad JSON', await json('{')],
      ['too large', await json(JSON.stringify({ grant_type: 'x'.repeat(2_000_000) }))],
      ['wrong method', await fetch(`${stack.url}/oauth/token`)],
      ['introspection', await form('/oauth/introspect', { token: 'x' }, basic('ns:svc.a', secret))],
    ] as Array<[string, Response]>)
      expect({ label, ...noStore(res) }).toMatchObject({ label, cacheControl: 'no-store', pragma: 'no-cache' });
  });

  it('a body of another content type is refused naming the content type, not the parameters it seemed to lack', async () => {
    const params = new URLSearchParams({ ...cc, client_id: 'ns:svc.a', client_secret: secret }).toString();
    const sent = async (path: string, type: string | undefined, body: string) => {
      const res = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        // fetch sends a string body as text/plain unless told otherwise: the usual way to get here.
        headers: type === undefined ? {} : { 'content-type': type },
        body,
      });
      return { path, type, status: res.status, body: await readJson<OAuthErrorReply>(res) };
    };
    const refused = (path: string, type: string | undefined) => ({
      path,
      type,
      status: 400,
      body: {
        error: 'invalid_request',
        error_description:
          'Send the parameters as application/x-www-form-urlencoded (RFC 6749 §3.2) or application/json',
      },
    });
    // Before: "Invalid request: grant_type" for a text/plain body that held it, "Unsupported Media
    // Type" for the others.
    for (const type of [undefined, 'text/plain', 'application/xml', 'multipart/form-data; boundary=x'])
      expect(await sent('/oauth/token', type, params)).toEqual(refused('/oauth/token', type));
    expect(await sent('/oauth/introspect', 'text/plain', `token=x&${params}`)).toEqual(
      refused('/oauth/introspect', 'text/plain'),
    );
    // Either type of the SPEC is read as before.
    expect((await sent('/oauth/token', 'application/x-www-form-urlencoded', params)).status).toBe(200);
  });

  it('a parameter sent twice is invalid_request saying so (RFC 6749 §3.2)', async () => {
    const post = async (path: string, pairs: Array<[string, string]>) => {
      const res = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic('ns:svc.a', secret) },
        body: new URLSearchParams(pairs),
      });
      return { path, status: res.status, body: await readJson<OAuthErrorReply>(res) };
    };
    const repeated = (path: string, names: string) => ({
      path,
      status: 400,
      body: { error: 'invalid_request', error_description: `Parameters sent more than once: ${names}` },
    });
    // Before: "Invalid request: grant_type", as if it had been missing or malformed.
    expect(
      await post('/oauth/token', [
        ['grant_type', 'client_credentials'],
        ['grant_type', 'client_credentials'],
      ]),
    ).toEqual(repeated('/oauth/token', 'grant_type'));
    expect(
      await post('/oauth/token', [
        ['grant_type', 'client_credentials'],
        ['scope', 'service'],
        ['scope', 'service'],
      ]),
    ).toEqual(repeated('/oauth/token', 'scope'));
    expect(
      await post('/oauth/introspect', [
        ['token', 'a'],
        ['token', 'b'],
        ['token_type_hint', 'access_token'],
        ['token_type_hint', 'refresh_token'],
      ]),
    ).toEqual(repeated('/oauth/introspect', 'token, token_type_hint'));
  });
});
