import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, NatsConnection } from '@nats-io/transport-node';
import type { EventBusService as Bus } from './event-bus.service';
import type { NatsConnectionService } from '../nats/nats-connection.service';
import { within } from '../../../../test/support/stack';

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Against the real JetStream, on a subject prefix (so a stream) of its own: the names come from
 * libs/contracts, which reads the prefix when it is loaded, hence the late require.
 */
describe('EventBusService with its stream lost', () => {
  let bus: Bus;
  /** Other replicas' buses, each on a connection of its own. */
  let replicas: Bus[];
  const connections: NatsConnection[] = [];
  let stream: string;
  let subject: string;
  let others: string[];

  beforeAll(async () => {
    process.env.NATS_SUBJECT_PREFIX = `ebspec${randomBytes(5).toString('hex')}.`;
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { EventBusService } = require('./event-bus.service') as typeof import('./event-bus.service');
      const { EVENTS, EVENTS_STREAM } = require('@portcullis/contracts') as typeof import('@portcullis/contracts');
      /* eslint-enable @typescript-eslint/no-require-imports */
      // NatsConnectionService's part: one connection per replica, made on first use.
      const replica = () => {
        const connection = connect({ servers: NATS_URL }).then((c) => (connections.push(c), c));
        return new EventBusService({ connection: () => connection } as unknown as NatsConnectionService);
      };
      [bus, ...replicas] = [replica(), replica(), replica()];
      stream = EVENTS_STREAM;
      subject = EVENTS.TOKEN_REVOKED;
      others = [EVENTS.TOKEN_REVOKED, EVENTS.PRINCIPAL_DISABLED, EVENTS.KEYS_ROTATED];
    });
    delete process.env.NATS_SUBJECT_PREFIX;
  });

  afterAll(async () => {
    for (const b of [bus, ...replicas]) await b.onApplicationShutdown();
    await (await jetstreamManager(connections[0])).streams.delete(stream).catch(() => undefined);
    await Promise.all(connections.map((c) => c.close()));
  });

  // nats-server removes a deleted stream's files after answering the delete; a stream made again
  // at once can lose its storage to it and then ack events it never delivers. Three replicas, each
  // making the stream again when it finds it gone, did so in 4 of 40 rounds outside this suite;
  // this spec does not reproduce that race on its own (the event-stream-loss e2e did, 1 run in 5
  // to 10), so it checks the pause and that each new stream delivers.
  it('makes the stream again after a pause, and what is published then reaches the feed, round after round', async () => {
    const seen: number[] = [];
    let renewed = 0;
    bus.onNewStream('counting', async () => {
      renewed++;
    });
    await bus.follow<{ n: number }>(subject, new Date(), (e) => seen.push(e.n));
    // The other replicas follow too, and make the stream again as well when they find it gone.
    for (const r of replicas) for (const other of others) await r.follow(other, new Date(), () => undefined);
    await bus.publish(subject, { n: 0 });
    await within(1000, async () => seen.includes(0));
    const jsm = await jetstreamManager(connections[0]);
    const incarnations = new Set([(await jsm.streams.info(stream)).created]);
    for (let round = 1; round <= 8; round++) {
      await jsm.streams.delete(stream);
      const deleted = Date.now();
      await bus.publish(subject, { n: round });
      await within(1500, async () => seen.includes(round));
      const { created } = await jsm.streams.info(stream);
      // Made again no sooner than the pause after the loss: measured from the delete, not from the
      // publish, which may join a re-make the feed started on hearing of the loss (CI: 176 ms).
      expect(Date.parse(created) - deleted).toBeGreaterThanOrEqual(400);
      incarnations.add(created);
      // A replica's re-make of this loss may still be under way (its look-up answered late, then the
      // pause): it must find this stream, not the next round's loss, or it would make that one again
      // sooner than the pause after its delete (CI: 229 ms). Losses this close are the test's own.
      await sleep(1000);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(incarnations.size).toBe(9);
    await within(1000, async () => renewed === 8);
  }, 45000);

  it('makes a lost stream again by itself, with no event to publish', async () => {
    const jsm = await jetstreamManager(connections[0]);
    const lost = (await jsm.streams.info(stream)).created;
    await jsm.streams.delete(stream);
    let created: string | undefined;
    const deadline = Date.now() + 3000;
    while (!created && Date.now() < deadline) {
      created = await jsm.streams.info(stream).then(
        (i) => i.created,
        () => undefined,
      );
      await sleep(50);
    }
    expect(created).toBeDefined();
    expect(created).not.toBe(lost);
  });
});

describe('EventBusService.publish retries', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { EventBusService } = require('./event-bus.service') as typeof import('./event-bus.service');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // The stream look-up is stubbed: what is under test is how often a refused publish is tried again.
  const busRefusing = (refusals: number) => {
    const bus = new EventBusService({} as unknown as NatsConnectionService);
    const ids: string[] = [];
    const js = {
      publish: async (_subject: string, _data: string, opts: { msgID: string }) => {
        ids.push(opts.msgID);
        if (ids.length <= refusals) throw new Error("no responders: 'x'");
      },
    };
    const lookups = jest.spyOn(bus as unknown as { ensureStream: () => Promise<unknown> }, 'ensureStream');
    lookups.mockResolvedValue(js);
    return { bus, ids, lookups };
  };

  it('looks the stream up again before each attempt and keeps one message id', async () => {
    const { bus, ids, lookups } = busRefusing(2);
    await bus.publish('s', {});
    expect(lookups).toHaveBeenCalledTimes(3);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('answers UNAVAILABLE after the third refusal', async () => {
    const { bus, ids } = busRefusing(3);
    await expect(bus.publish('s', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(ids).toHaveLength(3);
  });
});

describe('EventBusService.runUntilDone', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { EventBusService, RETRY_MS } = require('./event-bus.service') as typeof import('./event-bus.service');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // No NATS: the retry is the bus's own. Its "trying again" lines are not under test.
  const quietBus = () => {
    const bus = new EventBusService({} as unknown as NatsConnectionService);
    jest
      .spyOn((bus as unknown as { logger: { error: () => void } }).logger, 'error')
      .mockImplementation(() => undefined);
    return bus;
  };
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries failed work again every RETRY_MS until it succeeds', async () => {
    const bus = quietBus();
    let calls = 0;
    const done = bus.runUntilDone('test work', async () => {
      if (++calls < 3) throw new Error('database away');
    });
    await jest.advanceTimersByTimeAsync(RETRY_MS - 1);
    expect(calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    await done;
    expect(calls).toBe(3);
  });

  it('gives up once the replica stops', async () => {
    const bus = quietBus();
    let calls = 0;
    const done = bus.runUntilDone('test work', async () => {
      calls++;
      throw new Error('database away');
    });
    await jest.advanceTimersByTimeAsync(0);
    await bus.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(RETRY_MS * 3);
    await done;
    expect(calls).toBe(1);
  });
});
