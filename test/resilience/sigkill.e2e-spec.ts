import { SUBJECTS } from '@portcullis/contracts';
import { api } from '../support/fixtures';
import { Load, sleep } from '../support/load';
import { SuiteReport } from '../support/report';
import { login, Stack, within } from '../support/stack';

/**
 * auth-core killed with SIGKILL under load (no drain, no shutdown hook): first one of two replicas,
 * then the other, and both restarted. Afterwards no acknowledged revocation is forgotten by any
 * replica, and every token issued before the kills (and not revoked) still verifies.
 */

const report = new SuiteReport(
  'resilience/sigkill',
  'auth-core SIGKILL under load and restart',
  'test/resilience/sigkill.e2e-spec.ts',
);
const stack = new Stack({ replicas: 2, gatewayEnv: { REQUEST_TIMEOUT_MS: '3000', LOGIN_FAILURES_PER_IP: '1000' } });
let admin: ReturnType<typeof api>;
const issued: Array<{ access_token: string; tid: string }> = [];
const sessions: Array<{ access_token: string; refresh_token: string }> = [];
const toRevoke: string[] = [];
const ackRevoked = new Set<string>();
const attempted = new Set<string>();
let revoker: Load;
let validator: Load;
let sessionsLoad: Load;

const natsValid = async (token: string) =>
  (await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token }, 5000)).valid;

beforeAll(async () => {
  await stack.start();
  admin = api(stack, (await login(stack)).access_token);
  for (let i = 0; i < 120; i++) issued.push((await admin.post('/api/v1/tokens', { token_life: 3600 })).body);
  for (let i = 0; i < 6; i++) sessions.push(await login(stack));
  toRevoke.push(...issued.slice(0, 80).map((t) => t.tid));
}, 120000);

afterAll(async () => {
  await Promise.all([revoker?.stop(), validator?.stop(), sessionsLoad?.stop()]);
  await stack.stop();
  report.write();
}, 60000);

describe('SIGKILL under load', () => {
  it('kills one replica, then the other, mid-traffic, and restarts both', async () => {
    let next = 0;
    revoker = new Load(async () => {
      const tid = toRevoke[next++];
      if (!tid) {
        await sleep(50);
        return 'idle';
      }
      attempted.add(tid);
      const r = await admin.del(`/api/v1/tokens/${tid}`);
      if (r.status === 204) ackRevoked.add(tid);
      await sleep(40);
      return r.status === 204 ? 'ok' : `HTTP ${r.status}`;
    }, 2);
    validator = new Load(async (i) => {
      const t = issued[80 + ((Date.now() + i) % 40)];
      try {
        return (await natsValid(t.access_token)) ? 'ok' : 'invalid';
      } catch (err) {
        // "no responders" comes back at once while no replica lives; don't spin on it.
        await sleep(50);
        throw err;
      }
    }, 2);
    sessionsLoad = new Load(async () => {
      const r = await fetch(`${stack.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: stack.adminPassword }),
      });
      await r.arrayBuffer();
      return r.status === 200 ? 'ok' : `HTTP ${r.status}`;
    }, 1);
    // Traffic first, however slow the machine: the kills must land among acknowledged revocations.
    await within(20_000, async () => ackRevoked.size >= 10);
    report.fault('SIGKILL auth-core replica #0 under load (replica #1 keeps serving)');
    await stack.replicas[0].stop('SIGKILL');
    await sleep(800);
    report.fault('SIGKILL auth-core replica #1 under load (no replica left)');
    const bothDead = Date.now();
    await stack.replicas[1].stop('SIGKILL');
    await sleep(500);
    report.fault('two fresh auth-core replicas started');
    await stack.startReplica();
    await stack.startReplica();
    await sleep(1500);
    await Promise.all([revoker.stop(), validator.stop(), sessionsLoad.stop()]);
    const all = [...revoker.outcomes, ...validator.outcomes, ...sessionsLoad.outcomes].filter(
      (o) => o.result !== 'idle',
    );
    report.requests('revocations under load', revoker.outcomes.filter((o) => o.result !== 'idle').length);
    report.requests('validations under load (NATS)', validator.outcomes.length);
    report.requests('logins under load (REST)', sessionsLoad.outcomes.length);
    report.figure('revocations attempted / acknowledged', `${attempted.size} / ${ackRevoked.size}`);
    report.figure(
      'requests under load that failed while replicas were dead',
      all.filter((o) => o.result !== 'ok').length,
    );
    expect(ackRevoked.size).toBeGreaterThanOrEqual(10);
    // Failures are 503s or NATS timeouts, and "no responders" once no replica lived — never a wrong
    // verdict or a 500.
    const excused = (o: (typeof all)[number]) =>
      /HTTP 503|TimeoutError|timeout/i.test(o.result) || (/no responders/.test(o.result) && o.ended >= bothDead);
    const wrong = all.filter((o) => o.result !== 'ok' && !excused(o));
    for (const o of wrong) report.error(`under load: ${o.result}`);
    expect(wrong).toEqual([]);
  }, 120000);

  it('no acknowledged revocation is forgotten: every one is refused on both fresh replicas', async () => {
    report.case('acknowledged revocations refused after SIGKILL + restart');
    const byTid = new Map(issued.map((t) => [t.tid, t.access_token]));
    const before = await Promise.all(
      [2, 3].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
    );
    const forgotten: string[] = [];
    for (const tid of ackRevoked) for (let k = 0; k < 3; k++) if (await natsValid(byTid.get(tid)!)) forgotten.push(tid);
    report.requests('validations of acknowledged revocations', ackRevoked.size * 3);
    for (const t of new Set(forgotten)) report.error(`acknowledged revocation forgotten: ${t}`);
    expect([...new Set(forgotten)]).toEqual([]);
    const after = await Promise.all(
      [2, 3].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
    );
    expect(after[0]).toBeGreaterThan(before[0]);
    expect(after[1]).toBeGreaterThan(before[1]);
    const rows = await stack.query<{ n: string }>(
      'SELECT count(*) AS n FROM access_tokens WHERE revoked AND tid = ANY($1::uuid[])',
      [[...ackRevoked]],
    );
    expect(Number(rows[0].n)).toBe(ackRevoked.size);
  });

  it('every token issued before the kills and not revoked still verifies (REST and NATS), sessions still refresh', async () => {
    report.case('tokens issued before SIGKILL still verify after restart');
    const untouched = issued.filter((t) => !attempted.has(t.tid));
    expect(untouched.length).toBeGreaterThanOrEqual(40);
    const invalid: string[] = [];
    for (const t of untouched) {
      if (!(await natsValid(t.access_token))) invalid.push(t.tid);
      const rest = await fetch(`${stack.url}/api/v1/auth/validate`, {
        headers: { authorization: `Bearer ${t.access_token}` },
      });
      if (rest.status !== 200) invalid.push(t.tid);
    }
    report.requests('validations of pre-kill tokens', untouched.length * 2);
    for (const s of sessions) {
      if (!(await natsValid(s.access_token))) invalid.push('session access token');
      const r = await fetch(`${stack.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
      if (r.status !== 200) invalid.push(`session refresh ${r.status}`);
    }
    for (const t of invalid) report.error(`pre-kill token no longer verifies: ${t}`);
    expect(invalid).toEqual([]);
    expect(stack.replicas.slice(2).every((r) => r.running) && stack.gateway.running).toBe(true);
  });
});
