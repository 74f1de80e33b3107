import { jetstreamManager } from '@nats-io/jetstream';
import { SUBJECTS } from '@portcullis/contracts';
import { api } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/**
 * The events stream lost under running replicas (deleted by an operator, or JetStream's storage
 * gone): the next revocation makes it again, and still reaches every replica within a second
 * (SPEC §7), because each replica's feed finds the new stream and reads it from its first event.
 */
describe('the events stream lost while the replicas run', () => {
  const stack = new Stack({ replicas: 2 });
  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  const streamName = () => stack.streamName('PORTCULLIS_EVENTS');
  /** How many of 16 validations (spread over both replicas by the queue group) still accept the token. */
  const stillValid = async (token: string) =>
    (
      await Promise.all(
        Array.from({ length: 16 }, () => stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })),
      )
    ).filter((r) => r.valid).length;

  it('revocations after the loss answer 204 at once and reach every replica within a second, twice over', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const jsm = await jetstreamManager(await stack.nats());
    for (let round = 0; round < 2; round++) {
      const victims = [await login(stack), await login(stack)];
      for (const v of victims) expect(await stillValid(v.access_token)).toBe(16);
      await jsm.streams.delete(streamName());
      for (const v of victims) {
        const r = await admin.del(`/api/v1/tokens/${v.tid}`);
        expect(r.status).toBe(204);
        await within(1000, async () => (await stillValid(v.access_token)) === 0);
        // The gateway validates locally (the SDK's feed): it hears of it too.
        await within(1000, async () => {
          const res = await fetch(`${stack.url}/api/v1/auth/validate`, {
            headers: { authorization: `Bearer ${v.access_token}` },
          });
          await res.arrayBuffer();
          return res.status === 401;
        });
      }
      expect((await jsm.streams.info(streamName())).state.messages).toBeGreaterThan(0);
    }
  }, 60000);

  it('a disabled client is refused by every replica too, and the audit feed goes on', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const created = await admin.post('/api/v1/clients', { clientId: 'after-loss', roles: ['service'] });
    const basic = `Basic ${Buffer.from(`after-loss:${created.body.client_secret}`).toString('base64')}`;
    const token = (await (
      await fetch(`${stack.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    ).json()) as { access_token: string };
    expect(await stillValid(token.access_token)).toBe(16);
    const jsm = await jetstreamManager(await stack.nats());
    await jsm.streams.delete(streamName());
    expect((await admin.post('/api/v1/clients/after-loss/disable', {})).status).toBeLessThan(300);
    await within(1000, async () => (await stillValid(token.access_token)) === 0);
  }, 60000);
});
