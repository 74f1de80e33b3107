import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { FailureRules, SharedLoginFailures } from './shared-login-failures';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Against the real JetStream: every test has a bucket of its own, deleted after. */
describe('SharedLoginFailures', () => {
  const connections: NatsConnection[] = [];
  const buckets: string[] = [];
  const store = async (rules: FailureRules, bucket = `PCL_SPEC_${randomBytes(5).toString('hex')}`) => {
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    buckets.push(bucket);
    return new SharedLoginFailures(() => Promise.resolve(nc), rules, bucket);
  };

  afterAll(async () => {
    const jsm = await jetstreamManager(connections[0]);
    for (const b of new Set(buckets)) await jsm.streams.delete(`KV_${b}`).catch(() => undefined);
    await Promise.all(connections.map((c) => c.close()));
  });

  it('blocks at the limit, for the block time, and counts afresh after it', async () => {
    const s = await store({ limit: 3, windowMs: 60_000, blockMs: 400 });
    expect(await s.recordFailure('10.0.0.1')).toBe(0);
    expect(await s.recordFailure('10.0.0.1')).toBe(0);
    const before = Date.now();
    const until = await s.recordFailure('10.0.0.1');
    expect(until).toBeGreaterThanOrEqual(before + 400);
    expect(await s.blockedUntil('10.0.0.1')).toBe(until);
    // Failures while blocked neither extend the block nor count towards the next window.
    expect(await s.recordFailure('10.0.0.1')).toBe(until);
    expect(await s.blockedUntil('10.0.0.2')).toBe(0);
    await sleep(until - Date.now() + 50);
    expect(await s.blockedUntil('10.0.0.1')).toBe(0);
    expect(await s.recordFailure('10.0.0.1')).toBe(0);
    expect(await s.recordFailure('10.0.0.1')).toBe(0);
  });

  it('forgets failures older than the window', async () => {
    const s = await store({ limit: 3, windowMs: 300, blockMs: 10_000 });
    await s.recordFailure('2001:db8::1');
    await s.recordFailure('2001:db8::1');
    await sleep(350);
    expect(await s.recordFailure('2001:db8::1')).toBe(0);
    expect(await s.recordFailure('2001:db8::1')).toBe(0);
    expect(await s.recordFailure('2001:db8::1')).toBeGreaterThan(Date.now());
  });

  it('two stores on two connections counting one address at once lose no failure', async () => {
    const bucket = `PCL_SPEC_${randomBytes(5).toString('hex')}`;
    const rules = { limit: 25, windowMs: 60_000, blockMs: 60_000 };
    const [a, b] = [await store(rules, bucket), await store(rules, bucket)];
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).recordFailure('192.0.2.9')));
    expect(results).toEqual(Array(24).fill(0));
    expect(await a.blockedUntil('192.0.2.9')).toBe(0);
    expect(await b.recordFailure('192.0.2.9')).toBeGreaterThan(Date.now());
    expect(await a.blockedUntil('192.0.2.9')).toBeGreaterThan(Date.now());
  });

  it('uses a bucket made earlier with other settings as it is', async () => {
    const bucket = `PCL_SPEC_${randomBytes(5).toString('hex')}`;
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    await new Kvm(nc).create(bucket, { history: 1, ttl: 3_600_000 });
    const s = await store({ limit: 1, windowMs: 1000, blockMs: 1000 }, bucket);
    expect(await s.recordFailure('10.1.1.1')).toBeGreaterThan(Date.now());
  });
});
