import { Stack, within } from '../support/stack';

/**
 * The gateway's readiness says which check failed, as auth-core's does: a probe reads only the
 * status, the operator looking at it needs the body. The 503 was turned into the native API's
 * envelope ("Service Unavailable Exception"), which named nothing.
 */
const stack = new Stack();

beforeAll(() => stack.start(), 60000);
afterAll(() => stack.stop(), 60000);

type Readiness = { status?: string; details?: Record<string, { status: string }> };

it('with no auth-core answering, GET /health/ready is 503 naming auth_core down and NATS up', async () => {
  await stack.replicas[0].stop();
  let last: { status: number; body: Readiness } = { status: 0, body: {} };
  await within(15000, async () => {
    const res = await fetch(`${stack.url}/health/ready`);
    last = { status: res.status, body: (await res.json()) as Readiness };
    return res.status === 503;
  });
  expect({
    status: last.status,
    body: last.body.status,
    authCore: last.body.details?.auth_core?.status,
    nats: last.body.details?.nats?.status,
  }).toEqual({ status: 503, body: 'error', authCore: 'down', nats: 'up' });
  // Liveness is not readiness: the process itself is fine.
  expect((await fetch(`${stack.url}/health/live`)).status).toBe(200);
}, 30000);
