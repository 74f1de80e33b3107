import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { credentialHelpers } from '../support/credentials';
import { api, inDays } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/**
 * SPEC §4 "nothing half-written": a change the other replicas cannot be told of (JetStream refusing
 * events) is not acknowledged — and not done either. A disable (§7: refused by every replica) whose
 * user holds only a PAT (no access token whose revocation event would fail first and roll the
 * change back), and a signing key rotation.
 */
describe('a change the other replicas cannot be told of', () => {
  const stack = new Stack({ replicas: 2 });
  let admin: ReturnType<typeof api>;
  const { validate, createUser } = credentialHelpers(stack, () => admin);
  const refuseEvents = async (refuse: boolean) => {
    const jsm = await jetstreamManager(await stack.nats());
    const stream = stack.streamName('PORTCULLIS_EVENTS');
    const { state } = await jsm.streams.info(stream);
    await jsm.streams.update(
      stream,
      refuse ? { max_msgs: state.messages, discard: DiscardPolicy.New } : { max_msgs: -1, discard: DiscardPolicy.Old },
    );
  };
  const allValid = async (token: string) =>
    (await Promise.all(Array.from({ length: 20 }, () => validate(token)))).every((r) => r.valid);

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('answers 503 and leaves the user enabled on every replica and in the database; the retry disables it everywhere', async () => {
    const user = await createUser('unannounced', ['user'], []);
    const pat = await admin.post(`/api/v1/users/${user.id}/tokens`, { name: 'only', expiresAt: inDays(1) });
    expect(pat.status).toBe(201);
    expect(await allValid(pat.body.token)).toBe(true);

    await refuseEvents(true);
    try {
      expect((await admin.patch(`/api/v1/users/${user.id}`, { enabled: false })).status).toBe(503);
      expect((await admin.get(`/api/v1/users/${user.id}`)).body.enabled).toBe(true);
      expect(await allValid(pat.body.token)).toBe(true);
    } finally {
      await refuseEvents(false);
    }

    expect((await admin.patch(`/api/v1/users/${user.id}`, { enabled: false })).status).toBe(200);
    await within(1000, async () =>
      (await Promise.all(Array.from({ length: 8 }, () => validate(pat.body.token)))).every((r) => !r.valid),
    );
  });

  it('a key rotation answers 503 and changes nothing: tokens issued after it verify on every replica', async () => {
    const activeKid = async () =>
      ((await admin.get('/api/v1/keys')).body.items as Array<{ kid: string; status: string }>).find(
        (k) => k.status === 'active',
      )?.kid;
    const before = await activeKid();
    await refuseEvents(true);
    try {
      expect((await admin.post('/api/v1/keys/rotate')).status).toBe(503);
      expect(await activeKid()).toBe(before);
      // Issued by either replica: each must sign with a key the other knows.
      for (let i = 0; i < 6; i++)
        expect(await allValid((await admin.post('/api/v1/tokens', {})).body.access_token)).toBe(true);
    } finally {
      await refuseEvents(false);
    }
    expect((await admin.post('/api/v1/keys/rotate')).status).toBe(201);
    expect(await activeKid()).not.toBe(before);
    for (let i = 0; i < 6; i++)
      expect(await allValid((await admin.post('/api/v1/tokens', {})).body.access_token)).toBe(true);
  });
});
