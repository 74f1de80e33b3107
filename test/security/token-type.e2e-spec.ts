import { createPrivateKey, KeyObject, sign as cryptoSign } from 'node:crypto';
import { SUBJECTS } from '@portcullis/contracts';
import { MasterKey } from '../../apps/auth-core/src/keys/master-key';
import { login, Stack } from '../support/stack';
import { ReplyBody as Body } from '../support/fixtures';

/**
 * RFC 9068 §4: a validator refuses a JWT whose `typ` is not `at+jwt`, so no other kind of JWT
 * signed with Portcullis' key can pass as an access token. The tokens here are signed with the
 * server's own active key (decrypted from the database with the stack's MASTER_KEY), so the
 * signature, kid, issuer and audience are all right and `typ` is the only thing judged.
 */

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');

let stack: Stack;
let realToken: string;
let claims: Record<string, unknown>;
let kid: string;
let serverKey: KeyObject;

function signed(typ: string | undefined): string {
  const header = { alg: 'ES256', kid, ...(typ === undefined ? {} : { typ }) };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(cryptoSign('sha256', Buffer.from(input), { key: serverKey, dsaEncoding: 'ieee-p1363' }))}`;
}

const restGet = (token: string) =>
  fetch(`${stack.url}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  stack = await new Stack().start();
  realToken = (await login(stack)).access_token;
  const [h, p] = realToken.split('.');
  kid = (JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string }).kid;
  claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const [row] = await stack.query<{ private_key_enc: Buffer }>(
    'SELECT private_key_enc FROM signing_keys WHERE kid = $1',
    [kid],
  );
  serverKey = createPrivateKey(new MasterKey(stack.masterKey).decrypt(row.private_key_enc, kid).toString());
}, 60_000);

afterAll(() => stack?.stop());

describe('the JWT typ header (RFC 9068 §4)', () => {
  it.each(['at+jwt', 'application/at+jwt', 'AT+JWT'])(
    'a token signed with the server key and typ %s is valid over NATS and REST (the key and claims are right)',
    async (typ) => {
      const token = signed(typ);
      expect(await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token })).toMatchObject({
        valid: true,
        claims: { jti: claims.jti },
      });
      expect((await restGet(token)).status).toBe(200);
    },
  );

  it.each([
    ['no typ', undefined],
    ['typ JWT', 'JWT'],
    ['typ application/jwt', 'application/jwt'],
    ['an ID token typ', 'id_token+jwt'],
  ])('the same token with %s is refused on every surface', async (_label, typ) => {
    const token = signed(typ);
    const nats = await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token });
    expect(nats).toMatchObject({ valid: false, error: { code: 'UNAUTHENTICATED' } });
    expect(nats.error?.message).toMatch(/typ/);
    const get = await restGet(token);
    expect(get.status).toBe(401);
    expect(((await get.json()) as Body).status).toBe('UNAUTHENTICATED');
    const post = await fetch(`${stack.url}/api/v1/auth/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(post.status).toBe(401);
    const me = await fetch(`${stack.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
  });

  it('the real token is still valid after the refusals (its header is judged on its own)', async () => {
    expect(await stack.natsRequest<Body>(SUBJECTS.TOKEN_VALIDATE, { token: realToken })).toMatchObject({ valid: true });
    expect((await restGet(realToken)).status).toBe(200);
  });
});
