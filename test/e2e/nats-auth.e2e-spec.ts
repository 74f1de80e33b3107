import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, Msg, NatsConnection } from '@nats-io/transport-node';
import { parse } from 'yaml';
import { jetStreamName } from '@portcullis/contracts';
import { EventFeed } from '@portcullis/event-feed';
import { ConfiguredNats, describeNats, startConfiguredNats } from '../support/private-nats';
import { login, Stack, within } from '../support/stack';

/**
 * NATS authentication and the subject permissions of deploy/README.md, for real: a private
 * nats-server runs the README's `authorization` block (prefixed for this run as the README says),
 * both apps connect as their own users (NATS_USER/NATS_PASSWORD, on every connection they open),
 * the whole flow works, and nobody but auth-core can answer auth.v1.* or publish its events.
 */
type User = { user: string; password: string; permissions: Record<string, unknown> };

/** The README's users, with every `auth.v1.` subject and the stream name prefixed for this run. */
function readmeUsers(prefix: string, passwords: Record<string, string>): User[] {
  const readme = readFileSync(join(__dirname, '../../deploy/README.md'), 'utf8');
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .find((b) => b.includes('authorization'));
  const values = parse(block as string) as { config: { merge: { authorization: { users: User[] } } } };
  const text = JSON.stringify(values.config.merge.authorization.users)
    .replace(/auth\.v1\./g, `${prefix}auth.v1.`)
    .replace(/PORTCULLIS_EVENTS|PORTCULLIS_LOGIN_FAILURES/g, (base) => jetStreamName(base, prefix));
  return (JSON.parse(text) as User[]).map((u) => ({ ...u, password: passwords[u.user] }));
}

describeNats('NATS users and subject permissions (deploy/README.md)', () => {
  const passwords = {
    'auth-core': randomBytes(12).toString('hex'),
    gateway: randomBytes(12).toString('hex'),
    'example-service': randomBytes(12).toString('hex'),
  };
  let server: ConfiguredNats;
  let url: string;
  let stack: Stack;
  const clients: NatsConnection[] = [];
  const as = async (user: keyof typeof passwords) => {
    const nc = await connect({ servers: url, user, pass: passwords[user], reconnect: false });
    clients.push(nc);
    return nc;
  };

  beforeAll(async () => {
    server = await startConfiguredNats(
      (port, dir) => {
        url = `nats://127.0.0.1:${port}`;
        // Made first, so the subject prefix is known when the permissions are written.
        stack = new Stack({
          natsUrl: url,
          // Validate workers (VERIFY_WORKERS) open connections of their own: they must authenticate too.
          env: { NATS_USER: 'auth-core', NATS_PASSWORD: passwords['auth-core'], VERIFY_WORKERS: '2' },
          gatewayEnv: { NATS_USER: 'gateway', NATS_PASSWORD: passwords.gateway },
        });
        return {
          jetstream: { store_dir: join(dir, 'js') },
          authorization: { users: readmeUsers(stack.prefix, passwords) },
        };
      },
      async (port) =>
        (await connect({ servers: `nats://127.0.0.1:${port}`, user: 'gateway', pass: passwords.gateway })).close(),
    );
    await stack.start();
  }, 90000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.stop();
    await server?.dispose();
  }, 60000);

  it('both apps connect as their own users and the whole flow works, revocation events included', async () => {
    const { access_token } = await login(stack);
    const validate = () =>
      fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${access_token}` } });
    expect((await validate()).status).toBe(200);
    const logout = await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(logout.status).toBe(204);
    await within(1000, async () => (await validate()).status === 401);
    expect(stack.logs()).toContain('auth=user/password, no TLS');
    // The event feeds hear JetStream's advisories about their stream (a lost stream is found at once).
    expect(stack.logs()).not.toContain('cannot hear');
    expect(stack.logs()).toMatch(/token\.validate is served by 2 worker thread\(s\)/);
    // The gateway verifies JWTs itself (LOCAL_JWT_VALIDATION, on by default) within its permissions.
    await within(5000, async () => stack.gateway.logs().includes('local JWT validation is live'));
    expect(stack.gateway.logs()).not.toMatch(/permissions violation/i);
    for (const p of Object.values(passwords)) expect(stack.logs()).not.toContain(p);
  });

  it('a cluster service can do everything the SDK does within the example-service permissions', async () => {
    // What libs/auth-client does, step by step, as the example-service user: each subject the SDK
    // uses must be allowed by the README's permissions (a violation is reported on the connection).
    const nc = await as('example-service');
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    const ask = async (subject: string, body: unknown = {}) =>
      (await nc.request(`${stack.prefix}${subject}`, JSON.stringify(body), { timeout: 3000 })).json<
        Record<string, unknown>
      >();
    expect(await ask('auth.v1.keys.jwks')).toHaveProperty('keys');
    expect(await ask('auth.v1.meta')).toBeTruthy();
    expect(await ask('auth.v1.revocations.snapshot')).toHaveProperty('revoked');
    let beats = 0;
    nc.subscribe(`${stack.prefix}auth.v1.heartbeat`, {
      callback: () => {
        beats++;
      },
    });
    const revoked: string[] = [];
    const feed = new EventFeed(nc, stack.streamName('PORTCULLIS_EVENTS'));
    await feed.follow<{ tokens: Array<{ tid: string }> }>(
      `${stack.prefix}auth.v1.events.token.revoked`,
      new Date(),
      (e) => revoked.push(...e.tokens.map((t) => t.tid)),
    );
    const { access_token, tid } = await login(stack);
    // Answered by auth-core's validate workers, on connections authenticated as auth-core.
    expect(await ask('auth.v1.token.validate', { token: access_token })).toMatchObject({ valid: true });
    await fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}` },
    });
    await within(3000, async () => revoked.includes(tid) && beats > 0);
    expect(await ask('auth.v1.token.validate', { token: access_token })).toMatchObject({ valid: false });
    await feed.close();
    expect(errors).toEqual([]);
  });

  it('the gateway replicas share the failed-login count within the gateway permissions', async () => {
    const fail = () =>
      fetch(`${stack.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'wrong-password-xyz' }),
      });
    expect((await fail()).status).toBe(401);
    expect((await fail()).status).toBe(401);
    const jsm = await jetstreamManager(await as('auth-core'));
    const bucket = `KV_${stack.streamName('PORTCULLIS_LOGIN_FAILURES')}`;
    // One key for the address, written twice (history 1 keeps the last).
    expect((await jsm.streams.info(bucket)).state).toMatchObject({ messages: 1, last_seq: 2 });
    expect(stack.gateway.logs()).not.toContain('shared failed-login count unavailable');
    // Logins judge the address on the gateway's watch of the bucket, not a read each.
    await within(3000, async () => stack.gateway.logs().includes('following the shared failed-login count'));
    expect(stack.gateway.logs()).not.toContain('failed-login watch unavailable');
    expect(stack.gateway.logs()).not.toMatch(/permissions violation/i);
  });

  it('refuses connections without credentials', async () => {
    await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(/Authorization/i);
  });

  it('lets no one but auth-core subscribe to auth.v1.> (so no one else can answer)', async () => {
    for (const user of ['gateway', 'example-service'] as const) {
      const nc = await as(user);
      const received: Msg[] = [];
      let denied: Error | undefined;
      nc.subscribe(`${stack.prefix}auth.v1.token.validate`, {
        queue: 'auth-core',
        callback: (err, msg) => {
          if (err) denied = err;
          else received.push(msg);
        },
      });
      await nc.flush();
      await within(2000, async () => denied !== undefined);
      expect(String(denied?.message)).toMatch(/permissions violation/i);
      // Requests still reach auth-core only.
      const reply = await (
        await as('example-service')
      ).request(`${stack.prefix}auth.v1.token.validate`, JSON.stringify({ token: 'not-a-token' }), { timeout: 3000 });
      expect(reply.json()).toMatchObject({ valid: false });
      expect(received).toEqual([]);
    }
  });

  it('gives a cluster service the events the SDK follows, not the audit trail', async () => {
    // The audit events hold who failed to log in, with which username, from which address: the
    // REST API gives them only to `audit:read`. A cluster service's identity must not read them
    // off NATS, neither live nor from the stream.
    const nc = await as('example-service');
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    const live: Msg[] = [];
    nc.subscribe(`${stack.prefix}auth.v1.events.audit`, { callback: (e, m) => void (e || live.push(m)) });
    await nc.flush();
    await within(2000, async () => errors.length > 0).catch(() => undefined);

    const audit: unknown[] = [];
    const feed = new EventFeed(await as('example-service'), stack.streamName('PORTCULLIS_EVENTS'), {
      warn: () => undefined,
    });
    // What LocalValidator follows is allowed (control).
    for (const event of ['token.revoked', 'principal.disabled', 'keys.rotated'])
      await feed.follow(`${stack.prefix}auth.v1.events.${event}`, new Date(), () => undefined);
    const following = feed
      .follow(`${stack.prefix}auth.v1.events.audit`, new Date(0), (e) => audit.push(e))
      .then(
        () => 'followed',
        (err: Error) => err.message,
      );
    // Audit events exist (the logins above): a consumer allowed on them would deliver some.
    await login(stack);
    const outcome = await Promise.race([following, new Promise((r) => setTimeout(() => r('pending'), 3000))]);
    await new Promise((r) => setTimeout(r, 500));
    await feed.close();
    expect({
      subscribe: /permissions violation/i.test(errors.join(' ')) ? 'refused' : 'allowed',
      consumer: outcome === 'followed' ? outcome : 'refused',
      audit: audit.length,
      live: live.length,
    }).toEqual({ subscribe: 'refused', consumer: 'refused', audit: 0, live: 0 });
  });

  it('lets no one but auth-core publish revocation events', async () => {
    const nc = await as('gateway');
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    nc.publish(`${stack.prefix}auth.v1.events.principal.disabled`, JSON.stringify({ kind: 'user', id: 'x' }));
    await nc.flush();
    await within(2000, async () => errors.length > 0);
    expect(errors.join(' ')).toMatch(/permissions violation/i);
  });
});
