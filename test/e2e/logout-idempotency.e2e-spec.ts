import { generateKeyPairSync } from 'node:crypto';
import { ErrorEnvelope } from '@portcullis/contracts';
import { signCompact } from '@portcullis/jwt';
import { credentialHelpers } from '../support/credentials';
import { api, inDays, readJson } from '../support/fixtures';
import { login, Stack, within } from '../support/stack';

/**
 * SPEC §4: logout revokes "this token and its refresh family"; §7: revocation is idempotent. A bearer
 * Portcullis issued ends its session whether it is still live, revoked already or expired; one it
 * did not issue is refused.
 */
describe('logout with a token revoked already, expired or forged', () => {
  // Access tokens live 30 s (the least ACCESS_TOKEN_TTL allows), and no skew stretches them.
  const stack = new Stack({ env: { ACCESS_TOKEN_TTL: '30', CLOCK_SKEW: '0' } });
  let admin: ReturnType<typeof api>;
  const { validate, createUser } = credentialHelpers(stack, () => admin);
  /** A session signed in at the start, whose access token has expired by the last case. */
  let early: { access_token: string; refresh_token: string; tid: string };
  let earlyAt = 0;

  const logout = (bearer: string | undefined, body?: object) =>
    fetch(`${stack.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: {
        ...(bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const refresh = (refreshToken: string) =>
    fetch(`${stack.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
  /** Revocations and PAT deletions on record: a logout that changes nothing adds none. */
  const revocations = async () =>
    Number(
      (
        await stack.query<{ n: string }>(
          `SELECT count(*) AS n FROM audit_events WHERE type IN ('token.revoked', 'pat.deleted')`,
        )
      )[0].n,
    );
  const refusedAsRevoked = async (r: Response) => {
    expect(r.status).toBe(401);
    expect((await readJson<ErrorEnvelope>(r)).message).toBe('Refresh token has been revoked');
  };

  beforeAll(async () => {
    await stack.start();
    const u = await login(stack);
    admin = api(stack, u.access_token);
    const user = await createUser('early-bird');
    early = await login(stack, user.username, user.password);
    earlyAt = Date.now();
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a second logout with the same token answers as the first, and changes nothing', async () => {
    const s = await login(stack);
    expect((await logout(s.access_token)).status).toBe(204);
    const after = await revocations();
    const again = await logout(s.access_token);
    expect(again.status).toBe(204);
    expect(await again.text()).toBe('');
    expect(await revocations()).toBe(after);
    await refusedAsRevoked(await refresh(s.refresh_token));
  });

  it('logout with a token revoked by DELETE /tokens/{tid} still ends its refresh family', async () => {
    const s = await login(stack);
    expect((await admin.del(`/api/v1/tokens/${s.tid}`)).status).toBeLessThan(300);
    await within(1000, async () => !(await validate(s.access_token)).valid);
    expect((await logout(s.access_token)).status).toBe(204);
    await refusedAsRevoked(await refresh(s.refresh_token));
  });

  it('a PAT logged out twice: deleted once, the same answer twice', async () => {
    const pat = await admin.post('/api/v1/users/me/tokens', { name: 'twice', expiresAt: inDays(1) });
    expect(pat.status).toBe(201);
    const token = pat.body.token as string;
    expect((await logout(token)).status).toBe(204);
    const after = await revocations();
    expect((await logout(token)).status).toBe(204);
    expect(await revocations()).toBe(after);
    expect((await validate(token)).valid).toBe(false);
  });

  it('a token Portcullis did not issue, or none: 401 in the envelope, and the session it names goes on', async () => {
    const s = await login(stack);
    const [h, p, sig] = s.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const resign = (c: Record<string, unknown>) => signCompact(header, c, otherKey, 'ES256');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged: Record<string, string | undefined> = {
      'roles raised under the real signature': `${h}.${b64({ ...claims, roles: ['admin', 'x'] })}.${sig}`,
      'signed by another key under our kid': resign(claims),
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt', kid: header.kid })}.${p}.`,
      'an unknown kid': signCompact({ ...header, kid: 'not-ours' }, claims, otherKey, 'ES256'),
      'not a JWT': 'definitely-not-a-token',
      'a PAT never issued': `pcl_pat_${'A'.repeat(43)}`,
      'no bearer at all': undefined,
    };
    const seen: Record<string, string> = {};
    for (const [label, bearer] of Object.entries(forged)) {
      const r = await logout(bearer);
      const body = await readJson<ErrorEnvelope>(r);
      seen[label] = `${r.status} ${body.status}`;
    }
    expect(seen).toEqual(Object.fromEntries(Object.keys(forged).map((k) => [k, '401 UNAUTHENTICATED'])));
    // Another issuer or audience, signed with our own key, cannot be made here; the verifier's unit
    // spec covers them (verifyIssued). What was named goes on:
    expect((await validate(s.access_token)).valid).toBe(true);
    expect((await refresh(s.refresh_token)).status).toBe(200);
  });

  it('an expired access token still ends its session: 204, and its refresh token is refused after', async () => {
    // 30 s after sign-in (ACCESS_TOKEN_TTL), with no skew.
    await new Promise((r) => setTimeout(r, Math.max(0, earlyAt + 31_000 - Date.now())));
    const judged = await validate(early.access_token);
    expect(judged).toMatchObject({ valid: false, error: { message: 'Token has expired' } });
    expect((await logout(early.access_token)).status).toBe(204);
    await refusedAsRevoked(await refresh(early.refresh_token));
    // Idempotent too: a second logout with it answers the same.
    expect((await logout(early.access_token)).status).toBe(204);
  }, 60000);
});
