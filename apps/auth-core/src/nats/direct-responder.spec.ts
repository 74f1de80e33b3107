import { randomBytes } from 'node:crypto';
import { connect, headers, NatsConnection } from '@nats-io/transport-node';
import { ERROR_HEADER, PortcullisError, REQUEST_ID_HEADER } from '@portcullis/contracts';
import { currentRequestContext } from '@portcullis/observability';
import { register } from 'prom-client';
import { DirectResponder } from './direct-responder';

// Against the real NATS server: the wire format and the drain are what callers see.
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('DirectResponder', () => {
  let server: NatsConnection;
  let client: NatsConnection;
  const subject = `direct-test.${randomBytes(6).toString('hex')}`;
  const logged: string[] = [];
  const seen: Array<string | undefined> = [];
  let release: () => void = () => undefined;
  const responder = new DirectResponder(
    subject,
    async (payload) => {
      seen.push(currentRequestContext()?.requestId);
      const p = payload as { kind?: string };
      if (p.kind === 'forbidden') throw new PortcullisError('FORBIDDEN', 'not for you');
      if (p.kind === 'bug') throw new Error('secret internals');
      if (p.kind === 'slow') await new Promise<void>((r) => (release = r));
      return { echoed: payload };
    },
    { error: (m: string) => logged.push(m) },
  );

  beforeAll(async () => {
    server = await connect({ servers: NATS_URL });
    client = await connect({ servers: NATS_URL });
    responder.subscribe(server, 'direct-test');
    await server.flush();
  });

  afterAll(async () => {
    await client.close();
    if (!server.isClosed()) await server.close();
  });

  const ask = (body: unknown, requestId?: string) => {
    const h = headers();
    if (requestId) h.set(REQUEST_ID_HEADER, requestId);
    return client.request(subject, JSON.stringify(body), { timeout: 3000, headers: h });
  };

  it('answers the handler’s result as plain JSON, in the caller’s request context, and counts it', async () => {
    const reply = await ask({ kind: 'ok', n: 1 }, 'rid-42');
    expect(reply.headers?.get(ERROR_HEADER) ?? '').toBe('');
    expect(reply.json()).toEqual({ echoed: { kind: 'ok', n: 1 } });
    expect(seen.at(-1)).toBe('rid-42');
    const metrics = await register.getSingleMetricAsString('portcullis_auth_core_nats_requests_total');
    expect(metrics).toContain(`subject="${subject}",outcome="ok"} 1`);
  });

  it('answers a domain error with its code and the error header, and an unexpected one as INTERNAL, logged', async () => {
    const forbidden = await ask({ kind: 'forbidden' });
    expect(forbidden.headers?.get(ERROR_HEADER)).toBe('FORBIDDEN');
    expect(forbidden.json()).toEqual({ error: expect.objectContaining({ code: 'FORBIDDEN', message: 'not for you' }) });
    const bug = await ask({ kind: 'bug' });
    expect(bug.headers?.get(ERROR_HEADER)).toBe('INTERNAL');
    expect(bug.string()).not.toContain('secret internals');
    expect(logged.some((l) => l.includes('secret internals'))).toBe(true);
    const metrics = await register.getSingleMetricAsString('portcullis_auth_core_nats_requests_total');
    expect(metrics).toContain(`subject="${subject}",outcome="FORBIDDEN"} 1`);
    expect(metrics).toContain(`subject="${subject}",outcome="INTERNAL"} 1`);
  });

  it('drains: what NATS already routed here is answered before drain resolves', async () => {
    const slow = ask({ kind: 'slow' });
    while (responder.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    let drained = false;
    const draining = responder.drain(5000).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(drained).toBe(false);
    release();
    expect((await slow).json()).toEqual({ echoed: { kind: 'slow' } });
    await draining;
    expect(responder.inFlight).toBe(0);
    // No longer subscribed: nothing answers.
    await expect(ask({ kind: 'ok' })).rejects.toThrow();
  });
});
