import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  KeyPair,
} from '@nats-io/jwt';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { ConfiguredNats, describeNats, startConfiguredNats } from '../support/private-nats';
import { freePort, login, ManagedProcess, Stack, startExampleService, within } from '../support/stack';

/**
 * NATS decentralised authentication, for real: a private nats-server in operator mode (an
 * operator, an account with JetStream, one user per app), each app given its `.creds` file by
 * NATS_CREDS. Every connection the apps open must present it, and a file rotated in place (a
 * Kubernetes Secret updated) must be read again at reconnect, without a restart.
 */
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
/** The apps' account has JetStream (the events stream, the failed-login bucket); the system account may not. */
const WITH_JETSTREAM = { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

describeNats('NATS decentralised auth with creds files (NATS_CREDS)', () => {
  const operator = createOperator();
  const account = createAccount();
  const system = createAccount();
  const users: Record<string, KeyPair> = {};
  const creds: Record<string, string> = {};
  let monitorPort: number;
  let nats: ConfiguredNats;
  let url: string;
  let stack: Stack;
  let svc: { proc: ManagedProcess; url: string } | undefined;

  /** The server's configuration; users in `revoked` may no longer connect. */
  async function serverConfig(dir: string, revoked: string[] = []): Promise<Record<string, unknown>> {
    const until = Math.floor(Date.now() / 1000) + 60;
    const revocations = Object.fromEntries(revoked.map((u) => [u, until]));
    const accountJwt = await encodeAccount(
      'PORTCULLIS',
      account,
      { limits: WITH_JETSTREAM, revocations },
      { signer: operator },
    );
    const systemJwt = await encodeAccount('SYS', system, { limits: UNLIMITED }, { signer: operator });
    writeFileSync(join(dir, 'operator.jwt'), await encodeOperator('portcullis-test', operator));
    return {
      operator: join(dir, 'operator.jwt'),
      system_account: system.getPublicKey(),
      resolver: 'MEMORY',
      resolver_preload: { [account.getPublicKey()]: accountJwt, [system.getPublicKey()]: systemJwt },
      jetstream: { store_dir: join(dir, 'js') },
      http_port: monitorPort,
    };
  }

  /** A new user of the account for `name`, its creds (JWT and seed) written to `<name>.creds`. */
  async function issueCreds(dir: string, name: string): Promise<void> {
    const user = createUser();
    users[name] = user;
    creds[name] = join(dir, `${name}.creds`);
    writeFileSync(creds[name], fmtCreds(await encodeUser(name, user, account), user));
  }

  const as = (name: string) => credsAuthenticator(readFileSync(creds[name]));

  /** The names of the server's client connections. */
  async function connectionNames(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/connz?limit=1000`);
    const connz = (await res.json()) as { connections?: Array<{ name?: string }> };
    return (connz.connections ?? []).map((c) => c.name ?? '?').sort();
  }

  beforeAll(async () => {
    monitorPort = await freePort();
    nats = await startConfiguredNats(
      async (_port, dir) => {
        for (const name of ['test', 'auth-core', 'gateway', 'example-service']) await issueCreds(dir, name);
        return serverConfig(dir);
      },
      async (port) => (await connect({ servers: `nats://127.0.0.1:${port}`, authenticator: as('test') })).close(),
    );
    url = `nats://127.0.0.1:${nats.port}`;
    stack = new Stack({
      natsUrl: url,
      natsOptions: { authenticator: as('test') },
      // Validate workers open connections of their own: they must present the creds too.
      env: { NATS_CREDS: creds['auth-core'], VERIFY_WORKERS: '2' },
      gatewayEnv: { NATS_CREDS: creds.gateway },
    });
    await stack.start();
    svc = await startExampleService(stack, 'remote', { NATS_CREDS: creds['example-service'] });
  }, 90000);

  afterAll(async () => {
    await svc?.proc.stop();
    await stack?.stop();
    await nats?.dispose();
  }, 60000);

  /** Login, HTTP and NATS validation (auth-core's main connection and its workers'), and the SDK. */
  async function everythingWorks(): Promise<string> {
    const { access_token } = await login(stack);
    const bearer = { authorization: `Bearer ${access_token}` };
    expect((await fetch(`${stack.url}/api/v1/auth/validate`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${svc!.url}/widgets`, { headers: bearer })).status).toBe(200);
    for (let i = 0; i < 6; i++)
      expect(await stack.natsRequest('auth.v1.token.validate', { token: access_token })).toMatchObject({ valid: true });
    return access_token;
  }

  it('every app connects with its creds file, and the whole flow works, revocation events included', async () => {
    const token = await everythingWorks();
    const bearer = { authorization: `Bearer ${token}` };
    expect((await fetch(`${stack.url}/api/v1/auth/logout`, { method: 'POST', headers: bearer })).status).toBe(204);
    await within(1000, async () => {
      const gateway = await fetch(`${stack.url}/api/v1/auth/validate`, { headers: bearer });
      return gateway.status === 401 && (await fetch(`${svc!.url}/widgets`, { headers: bearer })).status === 401;
    });
    expect(stack.replicas[0].logs()).toContain('auth=creds, no TLS');
    expect(stack.gateway.logs()).toMatch(/connected to .* \(auth=creds, no TLS\)/);
    expect(stack.logs()).toMatch(/token\.validate is served by 2 worker thread\(s\)/);
    for (const file of Object.values(creds)) {
      const seed = /SU[A-Z2-7]{56}/.exec(readFileSync(file, 'utf8'))?.[0];
      expect(seed).toBeTruthy();
      expect(stack.logs()).not.toContain(seed);
    }
    await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('reads a rotated creds file again when it reconnects, without a restart', async () => {
    const before = await connectionNames();
    expect(before.length).toBeGreaterThan(3);
    const old = users['auth-core'];
    const oldCreds = readFileSync(creds['auth-core']);
    // The Secret is updated in place: a new user, and the old one revoked while NATS restarts.
    await issueCreds(nats.dir, 'auth-core');
    await nats.restart(await serverConfig(nats.dir, [old.getPublicKey()]));
    // The old identity is refused now, so a connection that came back did not use it.
    await expect(
      connect({ servers: url, authenticator: credsAuthenticator(oldCreds), reconnect: false }),
    ).rejects.toThrow(/authorization|revoked/i);
    // Every connection is back: auth-core's, its workers', the gateway's, the SDK's and the test's.
    await within(20000, async () => JSON.stringify(await connectionNames()) === JSON.stringify(before));
    await within(10000, async () => {
      try {
        await everythingWorks();
        return true;
      } catch {
        return false;
      }
    });
  });
});
