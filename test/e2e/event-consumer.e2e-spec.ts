import { jetstream } from '@nats-io/jetstream';
import { EVENTS } from '@portcullis/contracts';
import { api, clientCredentialsToken } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/**
 * The events as a service outside Portcullis reads them: a plain nats.js JetStream consumer on the
 * events stream. Each operation that ends tokens or principals publishes what a cache needs
 * (`token.revoked` with every tid, `principal.disabled`, `keys.rotated`) and an audit event, and no
 * event carries a secret: neither a password, a client secret, a refresh token, a PAT, an API key,
 * nor an access token.
 */
const stack = new Stack({ replicas: 1 });
const seen: Array<{ subject: string; body: Record<string, unknown>; raw: string }> = [];
const secrets: string[] = [];
let stop: () => void;

beforeAll(async () => {
  await stack.start();
  const consumer = await jetstream(await stack.nats()).consumers.get(stack.streamName('PORTCULLIS_EVENTS'));
  const messages = await consumer.consume();
  stop = () => void messages.stop();
  void (async () => {
    for await (const m of messages) {
      const raw = m.string();
      seen.push({ subject: m.subject.slice(stack.prefix.length), body: JSON.parse(raw), raw });
    }
  })();
}, 60000);
afterAll(async () => {
  stop?.();
  await stack.stop();
}, 60000);

const tidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).jti;

/** Runs `op` and waits for events matching each of `expected` to have been read, in any order. */
async function expectEvents(label: string, op: () => Promise<unknown>, expected: Array<[string, object]>) {
  const from = seen.length;
  await op();
  try {
    await within(3000, async () =>
      expected.every(([subject, shape]) =>
        seen.slice(from).some((e) => e.subject === subject && matches(e.body, shape)),
      ),
    );
  } catch {
    throw new Error(`${label}: expected ${JSON.stringify(expected)}, read ${JSON.stringify(seen.slice(from))}`);
  }
}

function matches(body: unknown, shape: unknown): boolean {
  if (Array.isArray(shape)) return Array.isArray(body) && shape.every((s) => body.some((b: unknown) => matches(b, s)));
  if (shape && typeof shape === 'object')
    return (
      !!body &&
      typeof body === 'object' &&
      Object.entries(shape).every(([k, v]) => matches((body as Record<string, unknown>)[k], v))
    );
  return body === shape;
}

describe('events for an outside JetStream consumer', () => {
  it('every operation that ends tokens or principals publishes its event, and none holds a secret', async () => {
    const session = await login(stack);
    secrets.push(stack.adminPassword, session.access_token, session.refresh_token);
    const admin = api(stack, session.access_token);
    const revoked = (reason: string, tids: string[]) =>
      [EVENTS.TOKEN_REVOKED, { reason, tokens: tids.map((tid) => ({ tid })) }] as [string, object];
    const disabled = (kind: string, id: string, value = true) =>
      [EVENTS.PRINCIPAL_DISABLED, { kind, id, disabled: value }] as [string, object];

    const t = await admin.post('/api/v1/tokens', {});
    secrets.push(t.body.access_token);
    await expectEvents('revoke by id', () => admin.del(`/api/v1/tokens/${t.body.tid}`), [
      revoked('revoked_by_id', [t.body.tid]),
    ]);

    const s2 = await login(stack);
    secrets.push(s2.access_token, s2.refresh_token);
    await expectEvents('logout', () => api(stack, s2.access_token).post('/api/v1/auth/logout'), [
      revoked('logout', [tidOf(s2.access_token)]),
    ]);

    const s3 = await login(stack);
    secrets.push(s3.access_token, s3.refresh_token);
    const rotated = await api(stack).post('/api/v1/auth/refresh', { refresh_token: s3.refresh_token });
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.access_token, rotated.body.refresh_token);
    await expectEvents(
      'refresh token reuse',
      () => api(stack).post('/api/v1/auth/refresh', { refresh_token: s3.refresh_token }),
      [revoked('refresh_token_reuse', [tidOf(s3.access_token), tidOf(rotated.body.access_token)])],
    );

    const password = 'bob-password-123';
    secrets.push(password);
    const bob = await admin.post('/api/v1/users', { username: 'bob', password, roles: ['user'], tenants: ['acme'] });
    const bobSession = await login(stack, 'bob', password);
    secrets.push(bobSession.access_token, bobSession.refresh_token);
    await expectEvents('user disable', () => admin.patch(`/api/v1/users/${bob.body.id}`, { enabled: false }), [
      revoked('user_disabled', [tidOf(bobSession.access_token)]),
      disabled('user', bob.body.id),
    ]);
    await expectEvents('user enable', () => admin.patch(`/api/v1/users/${bob.body.id}`, { enabled: true }), [
      disabled('user', bob.body.id, false),
    ]);

    const bob2 = await login(stack, 'bob', password);
    const pat = await api(stack, bob2.access_token).post('/api/v1/users/me/tokens', { name: 'p' });
    secrets.push(bob2.access_token, bob2.refresh_token, pat.body.token);
    await expectEvents('credentials removal', () => admin.del(`/api/v1/users/${bob.body.id}/credentials`), [
      revoked('credentials_removed', [tidOf(bob2.access_token)]),
      revoked('credentials_removed', [pat.body.id]),
    ]);
    await expectEvents('user delete', () => admin.del(`/api/v1/users/${bob.body.id}`), [disabled('user', bob.body.id)]);

    const svc = await admin.post('/api/v1/clients', { clientId: 'svc', roles: ['service'] });
    secrets.push(svc.body.client_secret);
    const cc1 = await clientCredentialsToken(stack, 'svc', svc.body.client_secret);
    secrets.push(cc1);
    await expectEvents('client disable', () => admin.post('/api/v1/clients/svc/disable'), [
      revoked('client_disabled', [tidOf(cc1)]),
      disabled('client', 'svc'),
    ]);
    await expectEvents('client enable', () => admin.post('/api/v1/clients/svc/enable'), [
      disabled('client', 'svc', false),
    ]);
    const key = await admin.post('/api/v1/clients/svc/api-keys', { name: 'k' });
    const bearer = await api(stack).post('/api/v1/auth', { apiKey: key.body.apiKey });
    secrets.push(key.body.apiKey, bearer.body.access_token);
    await expectEvents('api key delete', () => admin.del(`/api/v1/clients/svc/api-keys/${key.body.id}`), [
      revoked('api_key_deleted', [tidOf(bearer.body.access_token)]),
    ]);
    const cc2 = await clientCredentialsToken(stack, 'svc', svc.body.client_secret);
    secrets.push(cc2);
    await expectEvents('client delete', () => admin.del('/api/v1/clients/svc'), [
      revoked('client_deleted', [tidOf(cc2)]),
      disabled('client', 'svc'),
    ]);

    const mine = await admin.post('/api/v1/users/me/tokens', { name: 'mine' });
    secrets.push(mine.body.token);
    await expectEvents('PAT delete', () => admin.del('/api/v1/users/me/tokens/mine'), [
      revoked('pat_deleted', [mine.body.id]),
    ]);

    let kid = '';
    await expectEvents('key rotation', async () => (kid = (await admin.post('/api/v1/keys/rotate')).body.kid), []);
    await within(3000, async () => seen.some((e) => e.subject === EVENTS.KEYS_ROTATED && e.body.kid === kid));

    // Audit events go on the same stream.
    for (const type of ['login.succeeded', 'token.revoked', 'user.created', 'client.disabled', 'keys.rotated'])
      expect({ type, found: seen.some((e) => e.subject === EVENTS.AUDIT && e.body.type === type) }).toEqual({
        type,
        found: true,
      });

    const leaks = seen.filter((e) => secrets.some((s) => s && e.raw.includes(s)));
    expect(leaks).toEqual([]);
    // Nor a hash, nor a field whose name says it holds one.
    const secretField = /"(\w*password\w*|\w*secret\w*|\w*hash\w*|refresh_token|access_token|apiKey|token)":/i;
    expect(seen.filter((e) => secretField.test(e.raw))).toEqual([]);
  }, 60000);
});
