import { http, must } from '../lib/stack.mjs';
import { now, Recorder, round } from '../lib/stats.mjs';
import { log } from '../lib/harness.mjs';

/**
 * Revocation propagation on 2 replicas: a second auth-core replica is started, `b.opts.revocations`
 * tokens are minted and revoked one by one, and each is polled until every replica refuses it.
 * The method and its figures go into `revocation` (results.json `revocation`).
 */
export async function revocationPhase(b, stack, fx, revocation) {
  const { gw, nc, validateSubject, mint } = fx;
  const count = b.opts.revocations;
  log('starting a second auth-core replica for revocation propagation …');
  const second = await stack.startReplica();
  b.mem.track('auth-core#2', second.pid);
  const tokens = (await mint(count)).map((r) => ({ token: r.access_token, tid: r.tid }));
  const adminSession = must(
    await http(gw).post('/api/v1/auth/login', { username: stack.adminUsername, password: stack.adminPassword }),
    200,
    'admin login',
  );
  const revokedBefore = await Promise.all(
    [0, 1].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
  );
  const RUN = 20;
  await b.phase(
    'pcl.revocation',
    'portcullis',
    `revocation propagation: DELETE /api/v1/tokens/{tid} answered → every replica refuses (2 replicas, ${count} revocations)`,
    { concurrency: 2, replicas: 2 },
    async () => {
      const firstRefusal = new Recorder();
      const lastAcceptance = new Recorder();
      let refusedAtOnce = 0;
      let errors = 0;
      let gatewayAccepted = 0;
      let gatewayOther = 0;
      for (const { token, tid } of tokens) {
        const payload = Buffer.from(JSON.stringify({ token }));
        const res = await fetch(`${gw}/api/v1/tokens/${tid}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${adminSession.access_token}` },
        });
        await res.arrayBuffer();
        const t0 = now();
        if (res.status !== 204 && res.status !== 200) {
          errors++;
          revocation.lastError ??= `DELETE answered ${res.status}`;
          continue;
        }
        // Poll with 2 requests in flight; NATS spreads them over both replicas at random.
        let consecutive = 0;
        let lastAccept = null;
        let refusalAfterLastAccept = null;
        let stop = false;
        const worker = async () => {
          while (!stop) {
            const m = await nc.request(validateSubject, payload, { timeout: 5000 });
            const t = now() - t0;
            if (m.json().valid) {
              lastAccept = t;
              refusalAfterLastAccept = null;
              consecutive = 0;
            } else {
              refusalAfterLastAccept ??= t;
              if (++consecutive >= RUN) stop = true;
            }
            if (t > 5000) stop = true;
          }
        };
        // The gateway validates JWTs itself: the same token over REST, sent the moment the
        // DELETE has answered, must already be refused there too.
        const viaGateway = async () => {
          const g = await fetch(`${gw}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
          await g.arrayBuffer();
          if (g.status === 200) gatewayAccepted++;
          else if (g.status !== 401) gatewayOther++;
        };
        await Promise.all([worker(), worker(), viaGateway()]);
        if (consecutive < RUN) {
          errors++;
          continue;
        }
        firstRefusal.add(refusalAfterLastAccept);
        if (lastAccept === null) refusedAtOnce++;
        else lastAcceptance.add(lastAccept);
      }
      const revokedAfter = await Promise.all(
        [0, 1].map((i) => stack.metric(i, 'portcullis_auth_core_validations_total{outcome="revoked"}')),
      );
      Object.assign(revocation, {
        method:
          `after each DELETE answers, validate is polled over NATS with 2 requests in flight (queue group: each lands on a random replica) until ${RUN} consecutive refusals; ` +
          'the time recorded is that of the first refusal after the last acceptance',
        revocations: tokens.length,
        refusedOnFirstPoll: refusedAtOnce,
        gatewayAcceptedAfterRevoke: gatewayAccepted,
        gatewayOtherStatus: gatewayOther,
        lastAcceptance_p50_ms: round(lastAcceptance.percentile(50), 3),
        lastAcceptance_p99_ms: round(lastAcceptance.percentile(99), 3),
        lastAcceptance_max_ms: round(lastAcceptance.percentile(100), 3),
        refusalsCountedPerReplica: revokedAfter.map((v, i) => v - revokedBefore[i]),
      });
      return {
        ops: firstRefusal.n,
        errors,
        throughput: null,
        p50_ms: round(firstRefusal.percentile(50), 3),
        p99_ms: round(firstRefusal.percentile(99), 3),
        max_ms: round(firstRefusal.percentile(100), 3),
        ...(revocation.lastError ? { lastError: revocation.lastError } : {}),
      };
    },
    { retry: false },
  );
  b.mem.untrack('auth-core#2');
}
