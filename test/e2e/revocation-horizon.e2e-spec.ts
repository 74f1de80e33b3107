import { RevocationSnapshot, SUBJECTS } from '@portcullis/contracts';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * A replica that starts loads the revocations it must still refuse. A token is accepted up to
 * CLOCK_SKEW (at most 300 s) past its `exp` on the replica's own clock, which may run behind
 * PostgreSQL's: the load reaches 600 s back, as far as a replica's memory keeps a revocation.
 */
describe('revocations a starting replica loads', () => {
  // The key retirement grace must be longer than CLOCK_SKEW (a start with the default 60 s is refused).
  const stack = new Stack({ env: { CLOCK_SKEW: '300', KEY_RETIREMENT_GRACE_SECONDS: '301' } });

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('include a token revoked and expired 7 minutes ago (past the largest skew, within the margin)', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const minted = await admin.post('/api/v1/tokens', {});
    expect(minted.status).toBe(201);
    const { tid } = minted.body as { tid: string };
    // Revoked in PostgreSQL alone: the events stream, which a starting replica also replays, has
    // no word of it, so the load is what must find it.
    await stack.query(
      `UPDATE access_tokens SET revoked = true, revoked_at = now(), expires_at = now() - interval '7 minutes'
        WHERE tid = $1`,
      [tid],
    );

    // The only replica is replaced, so the answer comes from one that loaded from PostgreSQL.
    await stack.replicas[0].stop();
    stack.replicas.shift();
    await stack.startReplica();
    const snapshot = await stack.natsRequest<RevocationSnapshot>(SUBJECTS.REVOCATIONS_SNAPSHOT, {});
    expect(snapshot.revoked.map((r) => r.tid)).toContain(tid);
  });
});
