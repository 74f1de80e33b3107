import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, NatsConnection } from '@nats-io/transport-node';
import { FailureRules, SharedLoginFailures } from './shared-login-failures';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds, for at most `ms`. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${check.toString()}`);
    await sleep(10);
  }
}

/** Counts the bucket's reads that reach JetStream, from any connection (direct or stream gets). */
function countReads(nc: NatsConnection, bucket: string): { readonly count: number } {
  const counter = { count: 0 };
  for (const subject of [
    `$JS.API.DIRECT.GET.KV_${bucket}`,
    `$JS.API.DIRECT.GET.KV_${bucket}.>`,
    `$JS.API.STREAM.MSG.GET.KV_${bucket}`,
  ])
    nc.subscribe(subject, {
      callback: () => {
        counter.count++;
      },
    });
  return counter;
}

/** Against the real JetStream: every test has a bucket of its own, deleted after. */
describe('SharedLoginFailures', () => {
  const connections: NatsConnection[] = [];
  const buckets: string[] = [];
  const stores: SharedLoginFailures[] = [];
  const store = async (rules: FailureRules, bucket = `PCL_SPEC_${randomBytes(5).toString('hex')}`) => {
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    buckets.push(bucket);
    const s = new SharedLoginFailures(() => Promise.resolve(nc), rules, bucket);
    stores.push(s);
    return s;
  };
  const newBucket = () => `PCL_SPEC_${randomBytes(5).toString('hex')}`;
  const RULES = { limit: 2, windowMs: 60_000, blockMs: 60_000 };

  afterAll(async () => {
    for (const s of stores) s.close();
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
    const until = await b.recordFailure('192.0.2.9');
    expect(until).toBeGreaterThan(Date.now());
    // The bucket's own answer holds at once; a's watched copy as soon as JetStream delivers the write.
    expect(await a.blockedUntil('192.0.2.9', Date.now(), true)).toBe(until);
    await eventually(async () => (await a.blockedUntil('192.0.2.9')) === until, 1000);
  });

  it('uses a bucket made earlier with other settings as it is', async () => {
    const bucket = `PCL_SPEC_${randomBytes(5).toString('hex')}`;
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    await new Kvm(nc).create(bucket, { history: 1, ttl: 3_600_000 });
    const s = await store({ limit: 1, windowMs: 1000, blockMs: 1000 }, bucket);
    expect(await s.recordFailure('10.1.1.1')).toBeGreaterThan(Date.now());
  });
  it("once its watch has caught up, answers from it: no read per login, and another store's block arrives", async () => {
    const bucket = newBucket();
    const [a, b] = [await store(RULES, bucket), await store(RULES, bucket)];
    expect(await b.blockedUntil('10.2.0.1')).toBe(0); // opens the bucket, and starts the watch
    await eventually(() => b.watching);
    const reads = countReads(connections[0], bucket);
    await a.recordFailure('10.2.0.1');
    const until = await a.recordFailure('10.2.0.1');
    expect(until).toBeGreaterThan(Date.now());
    await eventually(async () => (await b.blockedUntil('10.2.0.1')) === until, 1000);
    await sleep(50); // a's own reads, made while it counted, have arrived
    const before = reads.count;
    for (let i = 0; i < 50; i++) {
      expect(await b.blockedUntil('10.2.0.1')).toBe(until);
      expect(await b.blockedUntil(`10.2.1.${i}`)).toBe(0);
    }
    await sleep(50);
    expect(reads.count).toBe(before);
    // Asked for the bucket's own answer (an address that failed on this replica lately), it reads.
    expect(await b.blockedUntil('10.2.0.1', Date.now(), true)).toBe(until);
    await eventually(() => reads.count === before + 1, 1000);
  });

  it('a store started after blocks were made trusts its watch only once it has caught up with them', async () => {
    const bucket = newBucket();
    const a = await store(RULES, bucket);
    const blocks: number[] = [];
    for (let i = 0; i < 20; i++) {
      await a.recordFailure(`10.3.0.${i}`);
      blocks.push(await a.recordFailure(`10.3.0.${i}`));
    }
    const late = await store(RULES, bucket);
    // Every answer is right, whether it came from the bucket (watch not caught up) or the watch.
    for (let i = 0; i < 20; i++) expect(await late.blockedUntil(`10.3.0.${i}`)).toBe(blocks[i]);
    await eventually(() => late.watching);
    for (let i = 0; i < 20; i++) expect(await late.blockedUntil(`10.3.0.${i}`)).toBe(blocks[i]);
  });

  it('a purged key (an operator lifting a block) is lifted on the watching store too', async () => {
    const bucket = newBucket();
    const s = await store(RULES, bucket);
    await s.recordFailure('10.4.0.1');
    expect(await s.recordFailure('10.4.0.1')).toBeGreaterThan(Date.now());
    await eventually(() => s.watching);
    expect(await s.blockedUntil('10.4.0.1')).toBeGreaterThan(Date.now());
    const kv = await new Kvm(connections[connections.length - 1]).open(bucket);
    await kv.purge(Buffer.from('10.4.0.1').toString('base64url'));
    await eventually(async () => (await s.blockedUntil('10.4.0.1')) === 0, 1000);
  });

  it('a bucket lost and made again under a watching store: the missed block is found at the next failure, and the watch made afresh', async () => {
    const bucket = newBucket();
    const s = await store(RULES, bucket);
    expect(await s.blockedUntil('10.5.0.1')).toBe(0);
    await eventually(() => s.watching);
    await jetstreamManager(connections[connections.length - 1]).then((jsm) => jsm.streams.delete(`KV_${bucket}`));
    // Another replica makes the bucket again and blocks an address in it.
    const other = await store(RULES, bucket);
    await other.recordFailure('10.5.0.1');
    const until = await other.recordFailure('10.5.0.1');
    expect(until).toBeGreaterThan(Date.now());
    // Whatever the old watch says by now, a failure reads the bucket: the block holds from then on.
    expect(await s.recordFailure('10.5.0.1')).toBe(until);
    expect(await s.blockedUntil('10.5.0.1')).toBe(until);
    await eventually(() => s.watching);
    await other.recordFailure('10.5.0.2');
    const next = await other.recordFailure('10.5.0.2');
    await eventually(async () => (await s.blockedUntil('10.5.0.2')) === next, 1000);
    expect(await s.blockedUntil('10.5.0.1')).toBe(until);
  });

  it('closed, it watches nothing and still answers from the bucket', async () => {
    const bucket = newBucket();
    const [a, b] = [await store(RULES, bucket), await store(RULES, bucket)];
    b.close();
    await a.recordFailure('10.6.0.1');
    const until = await a.recordFailure('10.6.0.1');
    expect(await b.blockedUntil('10.6.0.1')).toBe(until);
    await sleep(100);
    expect(b.watching).toBe(false);
  });
  it('says once that it cannot watch the bucket, and answers from the bucket meanwhile', async () => {
    const bucket = newBucket();
    const nc = await connect({ servers: NATS_URL });
    connections.push(nc);
    buckets.push(bucket);
    // A stream of the bucket's name that holds none of its subjects: no watch of the bucket can start.
    await (await jetstreamManager(nc)).streams.add({ name: `KV_${bucket}`, subjects: [`pcl-spec.${bucket}`] });
    const logs: string[] = [];
    const s = new SharedLoginFailures(
      () => Promise.resolve(nc),
      RULES,
      bucket,
      (level, m) => logs.push(`${level}: ${m}`),
    );
    stores.push(s);
    for (let i = 0; i < 5; i++) expect(await s.blockedUntil('10.7.0.1')).toBe(0);
    await eventually(() => logs.length > 0);
    await sleep(100);
    expect(logs).toEqual([
      expect.stringMatching(/^warn: failed-login watch unavailable, each login asks the shared count: /),
    ]);
    expect(s.watching).toBe(false);
  });
});
