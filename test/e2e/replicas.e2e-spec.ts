import { SUBJECTS } from '@portcullis/contracts';
import { Load, Outcome, sleep } from '../support/load';
import { api } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

const VALIDATIONS = 'portcullis_auth_core_validations_total';

/**
 * Two auth-core processes in the `auth-core` queue group: they share auth.v1.token.validate, and
 * when one dies without warning (SIGKILL: no drain, no goodbye) the only requests lost are those
 * it held at that moment; everything sent after its death is answered by the other.
 */
describe('auth-core replicas', () => {
  const stack = new Stack({ replicas: 2 });
  let token: string;

  beforeAll(async () => {
    await stack.start();
    token = (await login(stack)).access_token;
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  const natsValidate = async () => {
    const r = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token }, 2000);
    return r.valid ? 'ok' : 'invalid';
  };
  const restValidate = async () => {
    const res = await fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status === 200 ? 'ok' : `HTTP ${res.status}`;
  };

  it('both replicas answer a share of auth.v1.token.validate', async () => {
    const before = [await stack.metric(0, VALIDATIONS), await stack.metric(1, VALIDATIONS)];
    const load = new Load(natsValidate, 8);
    await sleep(1500);
    await load.stop();
    expect(load.failures()).toEqual([]);
    const answered = [
      (await stack.metric(0, VALIDATIONS)) - before[0],
      (await stack.metric(1, VALIDATIONS)) - before[1],
    ];
    const total = answered[0] + answered[1];
    expect(total).toBe(load.outcomes.length);
    // The queue group picks a member at random per message: each gets a real share, not a trickle.
    expect(answered[0]).toBeGreaterThan(total * 0.2);
    expect(answered[1]).toBeGreaterThan(total * 0.2);
  }, 30000);

  it('a PAT used from a new address is audited once for all replicas, and a known address never again', async () => {
    const admin = api(stack, token);
    const pat = await admin.post('/api/v1/users/me/tokens', {
      name: 'replicated',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      permissions: ['tokens:read'],
      tenants: [],
    });
    expect(pat.status).toBe(201);
    const useFrom = async (clientIp: string) => {
      // Enough requests that both replicas (the queue group picks at random) see the address.
      const replies = await Promise.all(
        Array.from({ length: 24 }, () =>
          stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: pat.body.token, clientIp }),
        ),
      );
      expect(replies.every((r) => r.valid)).toBe(true);
    };
    const events = async () =>
      (
        (await admin.get('/api/v1/audit?type=pat.used_from_new_ip&limit=100')).body.items as Array<{
          data: { id: string; ip: string; previousIp: string | null };
        }>
      )
        .filter((e) => e.data.id === pat.body.id)
        .map((e) => e.data)
        .reverse();
    const answered = () => Promise.all([stack.metric(0, VALIDATIONS), stack.metric(1, VALIDATIONS)]);
    const before = await answered();
    await useFrom('10.9.0.1');
    const after = await answered();
    expect(after[0]).toBeGreaterThan(before[0]);
    expect(after[1]).toBeGreaterThan(before[1]);
    await within(3000, async () => (await events()).length >= 1);
    await useFrom('10.9.0.2');
    await useFrom('10.9.0.1');
    await within(3000, async () => (await events()).length >= 2);
    await sleep(300); // room for a duplicate to show up, if there were one
    expect(await events()).toEqual([
      { id: pat.body.id, ip: '10.9.0.1', previousIp: null },
      { id: pat.body.id, ip: '10.9.0.2', previousIp: '10.9.0.1' },
    ]);
  }, 30000);

  it('a replica killed mid-load loses at most the requests it held; the survivor answers everything after', async () => {
    const loads = [new Load(natsValidate, 8), new Load(restValidate, 8)];
    await sleep(1000);
    const victimBefore = await stack.metric(1, VALIDATIONS);
    await sleep(500);
    expect(await stack.metric(1, VALIDATIONS)).toBeGreaterThan(victimBefore); // it is taking load

    const killedAt = Date.now();
    expect(await stack.replicas[1].stop('SIGKILL')).toBeNull();
    const goneAt = Date.now();
    await sleep(2500);
    const outcomes: Outcome[] = (await Promise.all(loads.map((l) => l.stop()))).flat();

    // Sent after the process was gone (plus the moment NATS needs to see its socket close): all answered.
    const after = outcomes.filter((o) => o.started > goneAt + 50);
    expect(after.length).toBeGreaterThan(100);
    expect(after.filter((o) => o.result !== 'ok')).toEqual([]);
    // Failures are only requests that were in flight when it died, and no more of them than that.
    const inFlightAtKill = outcomes.filter((o) => o.started <= goneAt + 50 && o.ended >= killedAt);
    const failed = outcomes.filter((o) => o.result !== 'ok');
    for (const f of failed) {
      expect(inFlightAtKill).toContain(f);
      // Lost, not refused: a timeout (NATS) or the gateway's 503 for auth-core not answering in time.
      expect(f.result).toMatch(/TimeoutError|timeout|HTTP 503/i);
    }
    expect(failed.length).toBeLessThanOrEqual(inFlightAtKill.length);
    // Before the kill nothing failed either.
    expect(outcomes.filter((o) => o.ended < killedAt && o.result !== 'ok')).toEqual([]);
    // The survivor carried everything after the kill.
    expect(stack.replicas[0].running).toBe(true);
  }, 60000);
});
