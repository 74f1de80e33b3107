import { SuiteReport } from '../support/report';
import { Stack } from '../support/stack';
import { runSoak, slope, SoakResult, trendOf } from './soak';

/**
 * The soak run (test/resilience/soak.ts): 30 s in `npm test`, 10 minutes with `npm run soak`
 * (SOAK_SECONDS=600). RSS is sampled every 10 s, or every tenth of the run when that is shorter.
 */

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 40);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? Math.min(10, Math.max(1, SECONDS / 10)));
const report = new SuiteReport(
  'resilience/soak',
  `Soak: ${SECONDS} s of mixed traffic`,
  'test/resilience/soak.e2e-spec.ts',
);
const stack = new Stack({ replicas: 2, gatewayEnv: { LOGIN_FAILURES_PER_IP: '100000' } });
let result: SoakResult;

beforeAll(() => stack.start(), 90000);
afterAll(async () => {
  await stack.stop();
  report.write();
}, 60000);

describe('the trend rule', () => {
  it('flags a steady climb and passes a plateau or noise (so the soak verdict can fail)', () => {
    const climbing = Array.from({ length: 30 }, (_, i) => 100 + i * 1.0); // +6 MiB/min at 10 s samples
    const plateau = Array.from({ length: 30 }, (_, i) => (i < 10 ? 80 + i * 2 : 100 + (i % 3) - 1));
    expect(trendOf('climbing', climbing, 10).ok).toBe(false);
    expect(trendOf('plateau', plateau, 10).ok).toBe(true);
    // A GC sawtooth with spikes is not a leak; the 10-minute run of auth-core that the old
    // straight-line rule flagged (a climb to a plateau, then flat for four minutes) is not either.
    const sawtooth = Array.from({ length: 60 }, (_, i) => 121 + (i % 11) * 3);
    expect(trendOf('sawtooth', sawtooth, 10).ok).toBe(true);
    const observed = [
      141, 167, 146, 147, 147, 148, 150, 151, 152, 154, 122, 126, 126, 135, 135, 135, 136, 136, 136, 137, 121, 126, 127,
      131, 136, 136, 123, 128, 129, 136, 136, 137, 138, 137, 138, 144, 150, 150, 149, 149, 148, 149, 150, 148, 149, 150,
      150, 150, 150, 150, 151, 151, 151, 150, 151, 150, 151, 151, 151,
    ];
    expect(trendOf('observed', observed, 10).ok).toBe(true);
    expect(trendOf('steady climb after it', [...observed, ...observed.map((_, i) => 151 + i)], 10).ok).toBe(false);
    // A 30 s CI run whose last quarter held one GC spike (seen in CI): the floor did not move.
    const spiky = [142.7, 143.2, 143.3, 145.1, 148.3, 148.8, 149.0, 149.1, 161.2, 168.3, 149.4];
    expect(trendOf('spike at the end of a short run', spiky, 3).ok).toBe(true);
    expect(trendOf('short run that leaks', [142, 143, 145, 148, 150, 153, 156, 159, 162, 165, 168], 3).ok).toBe(false);
    // auth-core warming up in a 30 s CI run (5 MiB between the last two quarters): not a leak.
    const warming = [116.3, 110.6, 110.7, 111.6, 113.0, 113.2, 113.5, 116.1, 118.4, 119.5, 119.8];
    expect(trendOf('warm-up in a short run', warming, 3).ok).toBe(true);
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
  });
});

describe(`soak: ${SECONDS} s at ${RATE} operations/s`, () => {
  it(
    'serves every request with the intended answer and shows no upward RSS trend',
    async () => {
      result = await runSoak(stack, {
        seconds: SECONDS,
        rate: RATE,
        sampleSeconds: SAMPLE_SECONDS,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      report.case(
        `mixed traffic at ${RATE}/s for ${SECONDS} s (login, refresh, validate REST/NATS, logout, revoked-token checks)`,
      );
      report.case('RSS trend of every process over the second half');
      for (const [op, n] of Object.entries(result.byOperation)) report.requests(op, n);
      for (const [k, n] of Object.entries(result.errors)) report.error(k, n);
      report.figure('duration (s) / target rate (op/s)', `${SECONDS} / ${RATE}`);
      report.figure('requests sent / not sent (in-flight cap)', `${result.sent} / ${result.skipped}`);
      report.figure('intended 4xx (revoked token refused)', result.intended4xx);
      report.figure(
        'latency p50 / p99 / max (ms)',
        `${result.latencyMs.p50} / ${result.latencyMs.p99} / ${result.latencyMs.max}`,
      );
      report.figure('RSS sample interval (s)', SAMPLE_SECONDS);
      for (const t of result.trends) {
        report.figure(
          `${t.name}: RSS first / max / last (MiB)`,
          `${t.samplesMiB[0].toFixed(1)} / ${Math.max(...t.samplesMiB).toFixed(1)} / ${t.samplesMiB.at(-1)!.toFixed(1)}`,
        );
        report.figure(
          `${t.name}: second-half slope / allowed (MiB/min)`,
          `${t.slopeMiBPerMin.toFixed(2)} / ${t.allowedMiBPerMin.toFixed(2)}`,
        );
        if (!t.ok) report.error(`RSS trend of ${t.name}`);
      }
      expect(result.errors).toEqual({});
      expect(result.skipped).toBe(0);
      expect(result.sent).toBeGreaterThanOrEqual(Math.floor(SECONDS * RATE * 0.95));
      expect(result.intended4xx).toBeGreaterThan(0);
      expect(result.trends.filter((t) => !t.ok)).toEqual([]);
      expect(stack.replicas.every((r) => r.running) && stack.gateway.running).toBe(true);
    },
    (SECONDS + 60) * 1000,
  );
});
