import { generateCredential, PAT_PREFIX } from '@portcullis/contracts';
import { clientHelpers } from '../support/clients';
import { api, OAuthErrorReply, readJson, SessionReply } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * RFC 7009 at /oauth/revoke: the hint is only a hint, a refresh token takes its grant's access
 * tokens with it, another client's token and an unknown one answer 200 and change nothing.
 */
describe('OAuth revocation (RFC 7009)', () => {
  const stack = new Stack({ replicas: 1 });
  let admin: ReturnType<typeof api>;
  const { form, basic, createClient, everywhere, natsValid } = clientHelpers(stack, () => admin);
  let app: { clientId: string; client_secret: string };
  let other: { clientId: string; client_secret: string };
  const session = async () =>
    readJson<SessionReply>(
      await form(
        '/oauth/token',
        { grant_type: 'password', username: 'admin', password: stack.adminPassword },
        basic(app.clientId, app.client_secret),
      ),
    );
  const revoke = (token: string, as: { clientId: string; client_secret: string }, hint?: string) =>
    form('/oauth/revoke', { token, ...(hint ? { token_type_hint: hint } : {}) }, basic(as.clientId, as.client_secret));
  const refreshes = async (refresh_token: string) =>
    (await form('/oauth/token', { grant_type: 'refresh_token', refresh_token }, basic(app.clientId, app.client_secret)))
      .status === 200;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
    app = await createClient('revoking-app', ['reader']);
    other = await createClient('other-app', ['reader']);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('finds the token whatever the hint says, and a refresh token takes its access tokens with it', async () => {
    for (const hint of [undefined, 'refresh_token', 'access_token', 'no-such-hint']) {
      const first = await session();
      const second = await readJson<SessionReply>(
        await form(
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: first.refresh_token },
          basic(app.clientId, app.client_secret),
        ),
      );
      const res = await revoke(second.refresh_token, app, hint);
      expect({ hint, status: res.status, body: await res.text() }).toEqual({ hint, status: 200, body: '' });
      await everywhere(second.access_token, false);
      expect(await natsValid(first.access_token)).toBe(false);
      expect(await refreshes(second.refresh_token)).toBe(false);
    }
    for (const hint of [undefined, 'refresh_token', 'no-such-hint']) {
      const s = await session();
      expect((await revoke(s.access_token, app, hint)).status).toBe(200);
      await everywhere(s.access_token, false);
      // The access token's grant ends with it: its refresh token too.
      expect(await refreshes(s.refresh_token)).toBe(false);
    }
  });

  it("another client's token, an unknown one: 200 and nothing changes; no token: invalid_request", async () => {
    const s = await session();
    for (const token of [s.access_token, s.refresh_token])
      for (const hint of [undefined, 'access_token', 'refresh_token'])
        expect((await revoke(token, other, hint)).status).toBe(200);
    expect(await natsValid(s.access_token)).toBe(true);
    expect(await refreshes(s.refresh_token)).toBe(true);
    for (const token of ['unknown', `pcl_rt_${'A'.repeat(43)}`, 'a.b.c'])
      expect((await revoke(token, app)).status).toBe(200);
    const missing = await form('/oauth/revoke', {}, basic(app.clientId, app.client_secret));
    expect(missing.status).toBe(400);
    expect((await readJson<OAuthErrorReply>(missing)).error).toBe('invalid_request');
  });
  it('an already rotated refresh token, revoked by its own client, still ends its session', async () => {
    const first = await session();
    const rotate = async (refresh_token: string) =>
      readJson<SessionReply>(
        await form(
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token },
          basic(app.clientId, app.client_secret),
        ),
      );
    const second = await rotate(first.refresh_token);
    // Another client presenting it changes nothing.
    expect((await revoke(first.refresh_token, other)).status).toBe(200);
    expect(await natsValid(second.access_token)).toBe(true);
    // Its own client (a logout with a stale copy): the grant ends, as RFC 7009 §2.1 asks of a refresh token.
    const res = await revoke(first.refresh_token, app, 'refresh_token');
    expect(res.status).toBe(200);
    await everywhere(second.access_token, false);
    expect(await refreshes(second.refresh_token)).toBe(false);
  });

  it('its own live API key is a token type this endpoint does not revoke: unsupported_token_type, not 200', async () => {
    const key = await admin.post(`/api/v1/clients/${app.clientId}/api-keys`, { name: 'revoke-me' });
    expect(key.status).toBe(201);
    const apiKey = key.body.apiKey as string;
    const exchanges = async () =>
      (
        await form('/oauth/token', {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: apiKey,
          subject_token_type: 'urn:portcullis:params:oauth:token-type:api-key',
        })
      ).status === 200;
    // Before: 200, which RFC 7009 §2.2 says means revoked (or unknown), while the key kept working.
    for (const hint of [undefined, 'access_token', 'refresh_token']) {
      const res = await revoke(apiKey, app, hint);
      const text = await res.text();
      expect({ hint, status: res.status, body: text && (JSON.parse(text) as OAuthErrorReply) }).toEqual({
        hint,
        status: 400,
        body: {
          error: 'unsupported_token_type',
          error_description: expect.stringContaining('DELETE /api/v1/clients/{id}/api-keys/{keyId}'),
        },
      });
    }
    expect(await exchanges()).toBe(true);
    // Another client's key tells that client nothing (200), and a deleted key is no token at all.
    expect((await revoke(apiKey, other)).status).toBe(200);
    expect((await admin.del(`/api/v1/clients/${app.clientId}/api-keys/${key.body.id as string}`)).status).toBe(204);
    expect((await revoke(apiKey, app)).status).toBe(200);
    expect(await exchanges()).toBe(false);
  });

  it('a PAT is a token type this endpoint does not revoke, whoever it belongs to and whether it exists', async () => {
    const made = await admin.post('/api/v1/users/me/tokens', { name: 'not-revoked-here' });
    expect(made.status).toBe(201);
    const pat = made.body.token as string;
    const gone = await admin.post('/api/v1/users/me/tokens', { name: 'deleted-pat' });
    expect((await admin.del('/api/v1/users/me/tokens/deleted-pat')).status).toBe(204);
    // Answered by its type, never by a look-up: a live PAT, a deleted one and one never issued
    // (well formed) read alike to every client, so the answer says nothing about who holds what.
    for (const token of [pat, gone.body.token as string, generateCredential(PAT_PREFIX)])
      for (const as of [app, other]) {
        const res = await revoke(token, as, 'access_token');
        const text = await res.text();
        expect({ status: res.status, body: text && (JSON.parse(text) as OAuthErrorReply) }).toEqual({
          status: 400,
          body: {
            error: 'unsupported_token_type',
            error_description: expect.stringContaining('DELETE /api/v1/users/me/tokens/{tokenOrName}'),
          },
        });
      }
    expect(await natsValid(pat)).toBe(true);
    // Not a PAT (a real one with its checksum's last character changed, so only the checksum is
    // wrong): an unknown string like any other.
    const mistyped = pat.slice(0, -1) + (pat.endsWith('A') ? 'B' : 'A');
    expect((await revoke(mistyped, app)).status).toBe(200);
  });
});
