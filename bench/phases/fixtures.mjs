import { randomBytes } from 'node:crypto';
import { http, must } from '../lib/stack.mjs';
import { closedLoop } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS, log } from '../lib/harness.mjs';

/**
 * Fixtures on the running stack: an admin session, a machine client, a user with a PAT, one user
 * per login connection, and `b.opts.distinct` client tokens minted over NATS to validate. Records
 * the RSS once they are made (`memory.afterFixtures`).
 */
export async function fixtures(b, stack, memory) {
  const { smoke } = b.opts;
  const nc = stack.nc;
  const gw = stack.url;
  const adminLogin = must(
    await http(gw).post('/api/v1/auth/login', { username: stack.adminUsername, password: stack.adminPassword }),
    200,
    'admin login',
  );
  const admin = http(gw, adminLogin.access_token);
  const client = must(
    await admin.post('/api/v1/clients', { clientId: 'bench-svc', roles: ['service'], description: 'bench' }),
    201,
    'create client',
  );
  const userPassword = `Bench-${randomBytes(9).toString('base64url')}`;
  must(
    await admin.post('/api/v1/users', { username: 'bench-user', password: userPassword, roles: ['user'] }),
    201,
    'create user',
  );
  // Login and refresh load is spread over one user per connection: a login writes its user's
  // row (last login), and 32 sessions of one person at once would measure that row lock.
  const loginUsers = Array.from({ length: smoke ? 4 : HTTP_CONNECTIONS }, (_, i) => `bench-user-${i}`);
  await closedLoop({
    concurrency: 4,
    durationMs: 600_000,
    maxOps: loginUsers.length,
    op: async (i) =>
      must(
        await admin.post('/api/v1/users', { username: loginUsers[i], password: userPassword, roles: ['user'] }),
        201,
        'create user',
      ),
  });
  let nextUser = 0;
  const loginBody = () =>
    JSON.stringify({ username: loginUsers[nextUser++ % loginUsers.length], password: userPassword });
  const userLogin = must(
    await http(gw).post('/api/v1/auth/login', { username: 'bench-user', password: userPassword }),
    200,
    'user login',
  );
  const pat = must(
    await http(gw, userLogin.access_token).post('/api/v1/users/me/tokens', {
      name: 'bench',
      expiresAt: new Date(Date.now() + 7 * 86400_000).toISOString(),
      permissions: ['tokens:read'],
      tenants: [],
    }),
    201,
    'create PAT',
  ).token;
  const ccSubject = stack.subject('auth.v1.oauth.client-credentials');
  const validateSubject = stack.subject('auth.v1.token.validate');
  const ccPayload = JSON.stringify({ client_id: client.clientId, client_secret: client.client_secret });
  const mint = async (n) => {
    const out = [];
    await closedLoop({
      concurrency: 32,
      durationMs: 600_000,
      maxOps: n,
      op: async () => {
        const m = await nc.request(ccSubject, ccPayload, { timeout: 10000 });
        if (m.headers?.get('Portcullis-Error')) throw new Error(m.string());
        out.push(m.json());
      },
    });
    return out;
  };
  log(`minting ${b.opts.distinct} distinct client tokens …`);
  const minted = (await mint(b.opts.distinct)).map((r) => r.access_token);
  const sameToken = minted[0];
  const samePayload = [Buffer.from(JSON.stringify({ token: sameToken }))];
  const distinctPayloads = minted.map((t) => Buffer.from(JSON.stringify({ token: t })));
  const sampleReply = (await nc.request(validateSubject, samePayload[0], { timeout: 5000 })).data;
  if (!JSON.parse(Buffer.from(sampleReply).toString()).valid) throw new Error('the minted token does not validate');
  const jwks = (await (await fetch(`${gw}/.well-known/jwks.json`)).json()).keys;

  await new Promise((r) => setTimeout(r, smoke ? 200 : 2000));
  memory.afterFixtures = b.mem.snapshot();
  log(`RSS after the fixtures: ${JSON.stringify(memory.afterFixtures)}`);
  return {
    nc,
    gw,
    client,
    loginUsers,
    loginBody,
    pat,
    ccSubject,
    validateSubject,
    mint,
    minted,
    sameToken,
    samePayload,
    distinctPayloads,
    sampleReply,
    jwks,
  };
}
