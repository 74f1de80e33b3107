import { randomBytes } from 'node:crypto';
import { connect, headers, NatsConnection } from '@nats-io/transport-node';
import { MuxError, RequestMux } from './request-mux';

// Against the real NATS server: no-responders is the server's own status reply.
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('RequestMux', () => {
  let nc: NatsConnection;
  let responder: NatsConnection;
  const subject = `mux-test.${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
    responder = await connect({ servers: NATS_URL });
    // Echoes the payload with its header; "slow" answers after 300 ms, "silent" never.
    responder.subscribe(`${subject}.echo`, {
      callback: (_err, m) => {
        const text = m.string();
        const reply = () => m.respond(`${text}|${m.headers?.get('X-Test') ?? ''}`);
        if (text === 'silent') return;
        if (text === 'slow') setTimeout(reply, 300);
        else reply();
      },
    });
    await responder.flush();
  });

  afterAll(async () => {
    await responder.close();
    if (!nc.isClosed()) await nc.close();
  });

  it('pairs each reply with its request, many in flight, and forgets them once answered', async () => {
    const mux = new RequestMux(nc, 2000);
    const h = headers();
    h.set('X-Test', 'yes');
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => mux.request(`${subject}.echo`, `m${i}`, i % 2 ? h : undefined)),
    );
    expect(replies.map((r) => r.string())).toEqual(
      Array.from({ length: 200 }, (_, i) => `m${i}|${i % 2 ? 'yes' : ''}`),
    );
    expect(mux.size).toBe(0);
  });

  it('fails with no-responders at once when nothing serves the subject', async () => {
    const mux = new RequestMux(nc, 5000);
    const t0 = Date.now();
    const err = await mux.request(`${subject}.nobody`, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MuxError);
    expect((err as MuxError).reason).toBe('no-responders');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(mux.size).toBe(0);
  });

  it('times out a request that gets no answer, without failing the ones answered in time', async () => {
    const mux = new RequestMux(nc, 150);
    const t0 = Date.now();
    const [silent, slow, quick] = await Promise.allSettled([
      mux.request(`${subject}.echo`, 'silent'),
      mux.request(`${subject}.echo`, 'slow'),
      mux.request(`${subject}.echo`, 'quick'),
    ]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(silent.status === 'rejected' && (silent.reason as MuxError).reason).toBe('timeout');
    expect(slow.status === 'rejected' && (slow.reason as MuxError).reason).toBe('timeout');
    expect(quick.status === 'fulfilled' && quick.value.string()).toBe('quick|');
    expect(mux.size).toBe(0);
    // The late answer to "slow" arrives after its timeout and is dropped, not delivered to another request.
    await new Promise((r) => setTimeout(r, 300));
    expect((await mux.request(`${subject}.echo`, 'after')).string()).toBe('after|');
  });

  it('fails what is in flight when the connection closes, and refuses new requests', async () => {
    const own = await connect({ servers: NATS_URL, noAsyncTraces: true });
    const mux = new RequestMux(own, 5000);
    const inFlight = mux.request(`${subject}.echo`, 'silent').catch((e: unknown) => e);
    await own.close();
    expect(((await inFlight) as MuxError).reason).toBe('closed');
    expect(((await mux.request(`${subject}.echo`, 'x').catch((e: unknown) => e)) as MuxError).reason).toBe('closed');
  });
});
