import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cannon } from '../lib/load.mjs';
import { newestProfile, summariseProfile } from '../lib/profile.mjs';
import { http, must, ROOT, Stack } from '../lib/stack.mjs';
import { closedLoop, now } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS, log } from '../lib/harness.mjs';
import { basic, natsRequester } from '../lib/wire.mjs';

/**
 * Re-runs each missed workload against a fresh stack whose auth-core and gateway run with
 * --cpu-prof, and summarises where each process spends its CPU time.
 */
export async function profileMisses({ targets, loop }) {
  const root = join(ROOT, 'bench/profiles');
  rmSync(root, { recursive: true, force: true });
  const out = [];
  for (const t of targets.filter((x) => !x.pass && x.profile)) {
    const dir = join(root, t.profile);
    mkdirSync(join(dir, 'auth-core'), { recursive: true });
    mkdirSync(join(dir, 'gateway'), { recursive: true });
    const appEnv = process.env.BENCH_APP_ENV ? JSON.parse(process.env.BENCH_APP_ENV) : {};
    const stack = new Stack({ appEnv, gatewayNodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(dir, 'gateway')] });
    try {
      log(`profiling under ${t.profile} …`);
      await stack.start(1);
      const adm = must(
        await http(stack.url).post('/api/v1/auth/login', {
          username: stack.adminUsername,
          password: stack.adminPassword,
        }),
        200,
        'admin login',
      );
      const client = must(
        await http(stack.url, adm.access_token).post('/api/v1/clients', { clientId: 'bench-prof', roles: ['service'] }),
        201,
        'create client',
      );
      const ccPayload = JSON.stringify({ client_id: client.clientId, client_secret: client.client_secret });
      const tokens = [];
      await closedLoop({
        concurrency: 32,
        durationMs: 600_000,
        maxOps: t.profile === 'nats-validate-distinct' ? 10_000 : 200,
        op: async () =>
          tokens.push(
            (
              await stack.nc.request(stack.subject('auth.v1.oauth.client-credentials'), ccPayload, { timeout: 10000 })
            ).json().access_token,
          ),
      });
      const users = [];
      if (t.profile === 'password-login') {
        const pw = `Bench-${randomBytes(9).toString('base64url')}`;
        for (let i = 0; i < HTTP_CONNECTIONS; i++) {
          must(
            await http(stack.url, adm.access_token).post('/api/v1/users', {
              username: `prof-${i}`,
              password: pw,
              roles: ['user'],
            }),
            201,
            'create user',
          );
          users.push(JSON.stringify({ username: `prof-${i}`, password: pw }));
        }
      }
      const validateSubject = stack.subject('auth.v1.token.validate');
      const payloads = (list) => list.map((tk) => Buffer.from(JSON.stringify({ token: tk })));
      const workloads = {
        'nats-validate-same': () =>
          closedLoop({
            concurrency: 64,
            ...loop,
            op: natsRequester(stack.nc, validateSubject, payloads([tokens[0]]), (b) => b.valid),
          }),
        'nats-validate-distinct': () =>
          closedLoop({
            concurrency: 64,
            ...loop,
            op: natsRequester(stack.nc, validateSubject, payloads(tokens), (b) => b.valid),
          }),
        'http-validate': () =>
          cannon({
            url: `${stack.url}/api/v1/auth/validate`,
            headers: { authorization: `Bearer ${tokens[0]}` },
            connections: HTTP_CONNECTIONS,
            ...loop,
          }),
        'password-login': () => {
          let n = 0;
          return cannon({
            url: `${stack.url}/api/v1/auth/login`,
            connections: HTTP_CONNECTIONS,
            ...loop,
            requests: [
              {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                setupRequest: (req) => ({ ...req, body: users[n++ % users.length] }),
              },
            ],
          });
        },
        'client-credentials': () =>
          cannon({
            url: `${stack.url}/oauth/token`,
            method: 'POST',
            headers: {
              authorization: basic(client.clientId, client.client_secret),
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: 'grant_type=client_credentials',
            connections: HTTP_CONNECTIONS,
            ...loop,
          }),
      };
      // A replica that never served the fixtures takes the load, so its profile is the workload's.
      const fresh = await stack.startReplica(['--cpu-prof', '--cpu-prof-dir', join(dir, 'auth-core')]);
      await stack.stopReplica(0);
      const wStart = now();
      const r = await workloads[t.profile]();
      const wEnd = now();
      await stack.stop();
      const entry = { target: t.id, workload: t.profile, throughputWhileProfiled: r.throughput, processes: {} };
      for (const [p, child] of [
        ['auth-core', fresh],
        ['gateway', stack.gateway],
      ]) {
        const file = newestProfile(join(dir, p), child.pid);
        if (file) entry.processes[p] = summariseProfile(file, 12, [child.exitedAt - wStart, child.exitedAt - wEnd]);
      }
      out.push(entry);
    } catch (err) {
      out.push({ target: t.id, workload: t.profile, error: String(err?.stack ?? err) });
      await stack.stop().catch(() => undefined);
    }
  }
  return out;
}
