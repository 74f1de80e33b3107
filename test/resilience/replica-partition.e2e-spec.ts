import { createServer, connect as tcpConnect, Server, Socket } from 'node:net';
import { SUBJECTS } from '@portcullis/contracts';
import { api } from '../support/fixtures';
import { Load, sleep } from '../support/load';
import {
  AUTH_CORE_MAIN,
  freePort,
  GATEWAY_MAIN,
  login,
  ManagedProcess,
  spawnApp,
  Stack,
  waitForReady,
  within,
} from '../support/stack';

/**
 * A TCP relay between one auth-core replica and NATS that the test can cut and restore: the
 * replica alone loses NATS (a NATS node restarted under it, a network partition) while the rest of
 * the cluster goes on, and revokes tokens meanwhile.
 */
class Relay {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private server!: Server;
  port = 0;

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((inbound) => {
      if (!this.open) return void inbound.destroy();
      const outbound = tcpConnect(Number(this.target.port || 4222), this.target.hostname);
      for (const [a, b] of [
        [inbound, outbound],
        [outbound, inbound],
      ]) {
        this.sockets.add(a);
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => (this.sockets.delete(a), b.destroy()));
      }
    });
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  stop(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * SPEC §7: a revoked token is refused by every replica. An auth-core replica and a gateway that
 * were cut off from NATS when the revocation was made learn of it from the JetStream feed once they
 * are back; neither may judge a token in the moment between being reachable again and having caught
 * up with that feed (nats.js subscribes again at once; the feed restarts after).
 */
describe.each([
  ['on its main thread', '0'],
  ['on validate worker threads', '2'],
])('an auth-core replica (validating %s) and a gateway cut off from NATS while tokens are revoked', (_, workers) => {
  const stack = new Stack({ replicas: 1 });
  const relay = new Relay(new URL(stack.natsUrl));
  let isolated: ManagedProcess;
  let gateway: ManagedProcess;
  let gatewayUrl = '';
  const tokens: Array<{ access_token: string; tid: string }> = [];

  beforeAll(async () => {
    await relay.start();
    await stack.start();
    const port = await freePort();
    isolated = spawnApp('auth-core#relayed', AUTH_CORE_MAIN, {
      ...stack.coreEnv(port),
      NATS_URL: `nats://127.0.0.1:${relay.port}`,
      VERIFY_WORKERS: workers,
    });
    stack.replicas.push(isolated);
    stack.replicaPorts.push(port);
    await waitForReady(`http://127.0.0.1:${port}/health/ready`, isolated);
    const gatewayPort = await freePort();
    gateway = spawnApp('gateway#relayed', GATEWAY_MAIN, {
      PORT: String(gatewayPort),
      NATS_URL: `nats://127.0.0.1:${relay.port}`,
      NATS_SUBJECT_PREFIX: stack.prefix,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: '1000',
    });
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitForReady(`${gatewayUrl}/health/ready`, gateway);
    const admin = api(stack, (await login(stack)).access_token);
    for (let i = 0; i < 8; i++) tokens.push((await admin.post('/api/v1/tokens', {})).body);
  }, 90000);

  afterAll(async () => {
    await gateway?.stop();
    await stack.stop();
    await relay.stop();
  }, 60000);

  it('both refuse the tokens revoked meanwhile from their first answer on', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    relay.cut();
    // The other replica (the only one NATS reaches now) revokes them, and is then stopped: from here
    // on every validation is the cut-off replica's to answer.
    await within(5000, async () => (await admin.del(`/api/v1/tokens/${tokens[0].tid}`)).status === 204);
    for (const t of tokens.slice(1)) expect((await admin.del(`/api/v1/tokens/${t.tid}`)).status).toBe(204);
    await stack.replicas[0].stop();

    const accepted: string[] = [];
    let answered = 0;
    const load = new Load(async (i) => {
      const { access_token: token, tid } = tokens[i % tokens.length];
      if (i % 2) {
        // The relayed gateway judges JWTs itself (LOCAL_JWT_VALIDATION), from its own feed.
        const r = await fetch(`${gatewayUrl}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
        await r.arrayBuffer();
        if (r.status === 200) accepted.push(`gateway: ${tid}`);
        return `HTTP ${r.status}`;
      }
      try {
        const r = await stack.natsRequest<{ valid: boolean; error?: { code: string } }>(
          SUBJECTS.TOKEN_VALIDATE,
          { token },
          1000,
        );
        answered++;
        if (r.valid) accepted.push(`auth-core: ${tid}`);
        return r.valid ? 'accepted' : r.error!.code;
      } catch (err) {
        // No responders while the replica is away: ask again a moment later.
        await sleep(2);
        throw err;
      }
    }, 8);
    await sleep(300);
    relay.restore();
    await within(10000, async () => answered > 0);
    await sleep(1500);
    await load.stop();

    expect(accepted).toEqual([]);
    // And both do answer, refusing them as revoked (not merely unavailable) once caught up.
    for (const t of tokens) {
      const r = await stack.natsRequest<{ valid: boolean; error: { message: string } }>(SUBJECTS.TOKEN_VALIDATE, {
        token: t.access_token,
      });
      expect(r).toMatchObject({ valid: false, error: { message: 'Token has been revoked' } });
      const rest = await fetch(`${gatewayUrl}/api/v1/auth/validate`, {
        headers: { authorization: `Bearer ${t.access_token}` },
      });
      expect({ status: rest.status, body: await rest.json() }).toMatchObject({
        status: 401,
        body: { message: 'Token has been revoked' },
      });
    }
  }, 60000);
});
