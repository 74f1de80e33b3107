import { generateKeyPairSync } from 'node:crypto';
import { Client } from 'pg';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { EVENTS, SUBJECTS } from '@portcullis/contracts';
import { MasterKey } from '../../apps/auth-core/src/keys/master-key';
import { api, jwtClaims, jwtHeader, KeyView } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

const kidOf = (token: string) => jwtHeader(token).kid;

/**
 * Whether `kid` is in the JWKS the gateway serves (`rest`) and in any replica's answer over NATS
 * (`nats`: true in every answer, false in none; asked a few times, each replica answers a share).
 */
async function listed(stack: Stack, kid: string) {
  const rest = (await (await fetch(`${stack.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
  let hits = 0;
  for (let i = 0; i < 6; i++)
    if (
      (await stack.natsRequest<{ keys: Array<{ kid: string }> }>(SUBJECTS.KEYS_JWKS, {})).keys.some(
        (k) => k.kid === kid,
      )
    )
      hits++;
  return { rest: rest.keys.some((k) => k.kid === kid), nats: hits === 6 ? true : hits === 0 ? false : 'some replicas' };
}

/**
 * SPEC §3: an old key stays in the JWKS until every token it signed has expired. At the rotation
 * that is only known as a bound, the longest any token may live (30 days by default, for extended
 * tokens); once every replica signs with the new key, the key's tokens are all recorded and it goes
 * when the last of them has expired.
 */
describe('a retired key leaves the JWKS when the tokens it signed have expired, not the longest any could live', () => {
  // Access tokens live 30 s; extended tokens (30 days) and POST /tokens (a day) keep their defaults.
  // Replicas may sign with a retired key for 5 s (60 by default).
  const stack = new Stack({
    replicas: 2,
    env: { ACCESS_TOKEN_TTL: '30', CLOCK_SKEW: '0', KEY_RETIREMENT_GRACE_SECONDS: '5' },
  });
  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  it('a key that signed only a 10-second token goes once the grace after its rotation is over; one that signed a 40-second token when that has expired', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const minted = await admin.post('/api/v1/tokens', { token_life: 40 });
    expect(minted.status).toBe(201);
    const long = (minted.body as { access_token: string }).access_token;
    const first = kidOf(long);
    // The next key is made later than this token: its tokens are told apart by when they were made.
    await new Promise((r) => setTimeout(r, 3000));
    const second = ((await admin.post('/api/v1/keys/rotate')).body as { kid: string }).kid;
    const short = await admin.post('/api/v1/tokens', { token_life: 10 });
    expect(kidOf((short.body as { access_token: string }).access_token)).toBe(second);
    expect((await admin.post('/api/v1/keys/rotate')).status).toBe(201);
    const rotated = Date.now();
    for (const kid of [first, second]) expect(await listed(stack, kid)).toEqual({ rest: true, nats: true });

    // Was: kept until 30 days after the rotation (EXTENDED_TOKEN_MAX_TTL), whatever the key signed.
    await within(rotated + 25_000 - Date.now(), async () => {
      const gone = await listed(stack, second);
      return !gone.rest && gone.nats === false;
    });
    expect(await listed(stack, first)).toEqual({ rest: true, nats: true });
    expect((await api(stack, long).get('/api/v1/auth/validate')).status).toBe(200);
    expect((await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: long })).valid).toBe(true);
    const keys = (
      (await api(stack, (await login(stack)).access_token).get('/api/v1/keys')).body as { items: KeyView[] }
    ).items;
    const until = (kid: string) => Date.parse(keys.find((k) => k.kid === kid)!.verifyUntil!) / 1000;
    expect(until(first)).toBeGreaterThanOrEqual(jwtClaims(long).exp);
    expect(until(first)).toBeLessThan(jwtClaims(long).exp + 2);
    expect(until(second)).toBeLessThanOrEqual(Date.now() / 1000);

    // A replica that starts now leaves the narrowed key as it is, without reading the tokens again.
    const lock = new Client({ connectionString: stack.db.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT 1 FROM signing_keys WHERE kid = $1 FOR UPDATE', [first]);
      // Was: every start narrowed every retired key still verifying again (its UPDATE waited on the lock).
      const outcome = await Promise.race([
        stack.startReplica().then(() => 'started'),
        stack.lockWaiters(1).then(() => 'narrowing again'),
      ]);
      expect(outcome).toBe('started');
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }

    await within(jwtClaims(long).exp * 1000 + 5000 - Date.now(), async () => {
      const gone = await listed(stack, first);
      return !gone.rest && gone.nats === false;
    });
  }, 90000);
});

/**
 * A replica that hears of a rotation only after the grace (it missed the event for that long) has
 * gone on signing with the old key meanwhile; a replica that started since has already brought
 * that key's verifyUntil down. Hearing of the rotation, the late replica keeps the key verifying
 * until its own late tokens have expired, on every path.
 */
describe('a replica that hears of a rotation late keeps the old key for the tokens it signed meanwhile', () => {
  // Long query and request timeouts: one case holds a token's record back while a replica starts.
  const stack = new Stack({
    env: { ACCESS_TOKEN_TTL: '30', CLOCK_SKEW: '0', KEY_RETIREMENT_GRACE_SECONDS: '5', DB_QUERY_TIMEOUT_MS: '20000' },
    gatewayEnv: { REQUEST_TIMEOUT_MS: '20000' },
  });

  beforeAll(() => stack.start(), 90000);
  afterAll(() => stack.stop(), 60000);

  /** A rotation two minutes ago that the running replicas never heard of (no event): the new key's kid. */
  async function rotateUnheard(): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = (await exportJWK(publicKey)) as Record<string, unknown>;
    const kid = await calculateJwkThumbprint(jwk as never);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await stack.query(
      `UPDATE signing_keys SET status = 'retired', retired_at = now() - interval '120 seconds',
         verify_until = now() + interval '30 days' WHERE status = 'active'`,
    );
    await stack.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc, status, created_at) VALUES ($1, 'ES256', $2, $3, 'active', now() - interval '120 seconds')`,
      [kid, { ...jwk, kid, alg: 'ES256', use: 'sig' }, new MasterKey(stack.masterKey).encrypt(Buffer.from(pem), kid)],
    );
    return kid;
  }

  const verifyUntil = async (kid: string) => {
    const keys = (
      (await api(stack, (await login(stack)).access_token).get('/api/v1/keys')).body as { items: KeyView[] }
    ).items;
    return Date.parse(keys.find((k) => k.kid === kid)!.verifyUntil!) / 1000;
  };

  it('its late token validates, and the key stays in the JWKS until that token has expired', async () => {
    const old = kidOf((await login(stack)).access_token);
    const kid = await rotateUnheard();
    // A replica started since reads the rotation as two minutes old: past the grace, it narrows the old key.
    const fresh = await stack.startReplica();
    await fresh.stop();
    expect(await listed(stack, old)).toEqual({ rest: true, nats: true });

    // The late replica still signs with the old key, then hears of the rotation.
    const late = (await login(stack)).access_token;
    expect(kidOf(late)).toBe(old);
    const nc = await stack.nats();
    nc.publish(`${stack.prefix}${EVENTS.KEYS_ROTATED}`, JSON.stringify({ kid, at: new Date().toISOString() }));
    await within(5000, async () => kidOf((await login(stack)).access_token) === kid);

    // Was: the old key gone from the JWKS (narrowed to the rotation's grace), the late token refused as of an unknown key.
    expect(await listed(stack, old)).toEqual({ rest: true, nats: true });
    expect((await api(stack, late).get('/api/v1/auth/validate')).status).toBe(200);
    expect((await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token: late })).valid).toBe(true);
    const keys = (
      (await api(stack, (await login(stack)).access_token).get('/api/v1/keys')).body as { items: KeyView[] }
    ).items;
    expect(Date.parse(keys.find((k) => k.kid === old)!.verifyUntil!) / 1000).toBeGreaterThanOrEqual(
      jwtClaims(late).exp,
    );
  }, 90000);

  it('a token it signs while it moves off the key is covered too, and the replicas that dropped the key take it back', async () => {
    const admin = api(stack, (await login(stack)).access_token);
    const old = kidOf((await login(stack)).access_token);
    const kid = await rotateUnheard();
    const inserts = new Client({ connectionString: stack.db.url });
    const keyRow = new Client({ connectionString: stack.db.url });
    await Promise.all([inserts.connect(), keyRow.connect()]);
    try {
      // The late replica signs a token with the old key; its record is held back until after it moves off.
      await inserts.query('BEGIN');
      await inserts.query('LOCK TABLE access_tokens IN SHARE MODE');
      const inFlight = admin.post('/api/v1/tokens', { token_life: 60 });
      await stack.lockWaiters(1);
      // A replica started since narrows the old key to the rotation's grace: it is gone from its JWKS.
      await stack.startReplica();
      // The late replica hears of the rotation; the other replica reads the keys before it extends the old one.
      await keyRow.query('BEGIN');
      await keyRow.query('SELECT 1 FROM signing_keys WHERE kid = $1 FOR UPDATE', [old]);
      const nc = await stack.nats();
      nc.publish(`${stack.prefix}${EVENTS.KEYS_ROTATED}`, JSON.stringify({ kid, at: new Date().toISOString() }));
      await stack.lockWaiters(2);
      await keyRow.query('COMMIT');
      await within(
        5000,
        async () =>
          (
            await stack.query(
              `SELECT 1 FROM signing_keys WHERE kid = $1 AND retired_at > now() - interval '60 seconds'`,
              [old],
            )
          ).length === 1,
      );
      await inserts.query('COMMIT');
      const minted = await inFlight;
      expect(minted.status).toBe(201);
      const token = (minted.body as { access_token: string }).access_token;
      expect(kidOf(token)).toBe(old);

      // Was: the other replica never heard that the old key verifies again (no event), and refused the token.
      await within(3000, async () => {
        const seen = await listed(stack, old);
        return seen.rest && seen.nats === true;
      });
      for (let i = 0; i < 6; i++)
        expect((await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, { token })).valid).toBe(true);
      // Was: verifyUntil covered only the tokens recorded when it moved off the key, not this one.
      expect(await verifyUntil(old)).toBeGreaterThanOrEqual(jwtClaims(token).exp);
      // Past the grace the old key is narrowed again, to the tokens it did sign.
      await within(10_000, async () => (await verifyUntil(old)) < jwtClaims(token).exp + 2);
      expect(await verifyUntil(old)).toBeGreaterThanOrEqual(jwtClaims(token).exp);
    } finally {
      await Promise.all([inserts.end(), keyRow.end()]);
    }
  }, 90000);
});
