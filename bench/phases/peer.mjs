import { randomBytes } from 'node:crypto';
import { cannon } from '../lib/load.mjs';
import { freePort } from '../lib/procs.mjs';
import { inTurns } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';
import { basic } from '../lib/wire.mjs';
import { durableShapes } from './durable-shapes.mjs';

/**
 * The peer: panva's oidc-provider (servers/oidc-peer.mjs, in-memory adapter) — introspection and
 * client_credentials under the same load, and the rows judged against it taken in turns with it:
 * HTTP validate, client_credentials, and the durable shapes (durable-shapes.mjs).
 * `ccRequest`, `ccForm`: the bench client's /oauth/token request (client-credentials.mjs).
 */
export async function peer(b, stack, fx, { ccRequest, ccForm }) {
  const { gw, sameToken } = fx;
  const { turns } = b.opts;
  const ac = b.httpLoop;
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const server = await b.startServer('oidc-provider', 'oidc-peer.mjs', [String(port), 'bench-peer', secret], {
    NODE_ENV: 'production',
  });
  const peerUrl = `http://127.0.0.1:${port}`;
  const auth = { authorization: basic('bench-peer', secret), 'content-type': 'application/x-www-form-urlencoded' };
  const issued = await (
    await fetch(`${peerUrl}/token`, { method: 'POST', headers: auth, body: 'grant_type=client_credentials' })
  ).json();
  if (!issued.access_token) throw new Error(`peer issued no token: ${JSON.stringify(issued)}`);
  await b.phase(
    'peer.introspection',
    'peer',
    `oidc-provider POST /token/introspection (opaque token, in-memory adapter), ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () =>
      cannon({
        url: `${peerUrl}/token/introspection`,
        method: 'POST',
        headers: auth,
        body: `token=${issued.access_token}`,
        ...ac,
      }),
  );
  // HTTP validate against the peer's introspection in turns, as the other ratio targets are:
  // the two phases above run a minute apart on a machine whose speed drifts.
  const httpSlice = (url, opts) => (durationMs) =>
    cannon({ url, connections: HTTP_CONNECTIONS, durationMs, warmupMs: turns.warmupMs, drainMs: 0, ...opts });
  await b.phase(
    'turns.http.validate',
    'turns',
    `in turns with peer.introspection (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): GET /api/v1/auth/validate (JWT), autocannon ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.introspection' },
    () =>
      inTurns({
        ...turns,
        a: httpSlice(`${peerUrl}/token/introspection`, {
          method: 'POST',
          headers: auth,
          body: `token=${issued.access_token}`,
        }),
        b: httpSlice(`${gw}/api/v1/auth/validate`, { headers: { authorization: `Bearer ${sameToken}` } }),
      }),
  );
  const check = await (
    await fetch(`${peerUrl}/token/introspection`, {
      method: 'POST',
      headers: auth,
      body: `token=${issued.access_token}`,
    })
  ).json();
  const introspected = b.rows.find((r) => r.id === 'peer.introspection');
  if (check.active !== true && introspected)
    introspected.note = 'the introspected token was no longer active at the end of the phase';
  await b.phase(
    'peer.client_credentials',
    'peer',
    `oidc-provider POST /token client_credentials (in-memory adapter), ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () =>
      cannon({
        url: `${peerUrl}/token`,
        method: 'POST',
        headers: auth,
        body: 'grant_type=client_credentials',
        ...ac,
      }),
  );
  // The least work any design of SPEC's shape (HTTP gateway, NATS, auth-core recording the
  // token in PostgreSQL before answering) does per client_credentials token: Fastify + one
  // nats.js request, a raw responder that signs and group-commits like auth-core, nothing
  // else. Taken in turns with the peer, like Portcullis itself: whether this shape reaches the
  // peer says whether the target can be reached at all on this machine.
  const peerCcSlice = httpSlice(`${peerUrl}/token`, {
    method: 'POST',
    headers: auth,
    body: 'grant_type=client_credentials',
  });
  await b.phase(
    'turns.http.client_credentials',
    'turns',
    `in turns with peer.client_credentials (${turns.rounds} rounds of ${turns.sliceMs / 1000} s each side): POST /oauth/token client_credentials, token recorded in PostgreSQL, ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS, pairedWith: 'peer.client_credentials' },
    () => inTurns({ ...turns, a: peerCcSlice, b: httpSlice(`${gw}/oauth/token`, ccRequest) }),
  );
  await durableShapes(b, stack, { peerCcSlice, httpSlice, ccRequest, ccForm });
  await server.stop();
  b.mem.untrack('oidc-provider');
}
