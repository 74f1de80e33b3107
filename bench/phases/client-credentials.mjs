import { cannon } from '../lib/load.mjs';
import { freePort } from '../lib/procs.mjs';
import { NATS_URL } from '../lib/stack.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';
import { basic } from '../lib/wire.mjs';

/**
 * client_credentials over HTTP, then split between the two apps, each with a least-work stand-in
 * (servers/nest-shape.mjs) on the other side. Gives back the bench client's request: `ccRequest`
 * (method, headers, body) and `ccForm` (the same with autocannon's options).
 */
export async function clientCredentials(b, stack, fx) {
  const { gw, client, ccSubject } = fx;
  const ac = b.httpLoop;
  /** The bench client's /oauth/token request, the same for every client_credentials row. */
  const ccRequest = {
    method: 'POST',
    headers: {
      authorization: basic(client.clientId, client.client_secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  };
  const ccForm = { ...ccRequest, ...ac };
  await b.phase(
    'pcl.http.client_credentials',
    'portcullis',
    `POST /oauth/token client_credentials (Basic), token recorded in PostgreSQL, ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () => cannon({ url: `${gw}/oauth/token`, ...ccForm }),
  );
  // Where the row above loses against the peer: the chosen stack's least work for the same
  // request (servers/nest-shape.mjs, no Portcullis code), then each real app with that
  // least-work stand-in on the other side. Both sides speak the apps' wire format, so the shape
  // core answers a second real gateway on its own subject prefix, and the shape gateway asks
  // the stack's auth-core.
  const ccSplit = [
    'ceiling.nest_shape.form',
    'pcl.http.client_credentials.gateway_alone',
    'pcl.http.client_credentials.core_alone',
  ];
  if (ccSplit.some((id) => b.wanted(id))) {
    const running = new Map();
    const start = async (name, args) =>
      running.set(name, await b.startServer(name, 'nest-shape.mjs', args, { NATS_URL }));
    const stop = async (name) => {
      const child = running.get(name);
      if (!child) return;
      running.delete(name);
      await child.stop();
      b.mem.untrack(name);
    };
    try {
      const prefix2 = `${stack.prefix}gw2.`;
      // One constant-answer core serves the shape gateway and the second real gateway alike.
      const shapeCoreSubject = `${prefix2}auth.v1.oauth.client-credentials`;
      if (b.wanted(ccSplit[0]) || b.wanted(ccSplit[1])) await start('nest-shape-core', ['core', shapeCoreSubject]);
      if (b.wanted(ccSplit[0])) {
        const port = await freePort();
        await start('nest-shape-gateway', ['gateway', String(port), shapeCoreSubject]);
        await b.phase(
          ccSplit[0],
          'ceiling',
          `the chosen stack's least work for /oauth/token: Nest on Fastify with ValidationPipe on a form POST, one NATS request to a Nest NATS microservice that validates its payload with class-validator and answers a constant token (no lookup, signing or database), ${HTTP_CONNECTIONS} connections`,
          { concurrency: HTTP_CONNECTIONS },
          () => cannon({ url: `http://127.0.0.1:${port}/oauth/token`, ...ccForm }),
        );
        await stop('nest-shape-gateway');
      }
      if (b.wanted(ccSplit[1])) {
        const gw2 = await stack.startGateway('gateway#2', prefix2);
        running.set('gateway#2', gw2.child);
        b.mem.track('gateway#2', gw2.child.pid);
        await b.phase(
          ccSplit[1],
          'portcullis',
          `the gateway alone: POST /oauth/token client_credentials on a second gateway (same build) in front of the constant-answer core of ceiling.nest_shape.form (no database), ${HTTP_CONNECTIONS} connections`,
          { concurrency: HTTP_CONNECTIONS },
          () => cannon({ url: `${gw2.url}/oauth/token`, ...ccForm }),
        );
        await stop('gateway#2');
      }
      await stop('nest-shape-core');
      if (b.wanted(ccSplit[2])) {
        const port = await freePort();
        await start('nest-shape-gateway', ['gateway', String(port), ccSubject]);
        await b.phase(
          ccSplit[2],
          'portcullis',
          `auth-core alone: client_credentials on the stack's auth-core (token recorded in PostgreSQL) behind the least-work gateway of ceiling.nest_shape.form, POST /oauth/token, ${HTTP_CONNECTIONS} connections`,
          { concurrency: HTTP_CONNECTIONS },
          () => cannon({ url: `http://127.0.0.1:${port}/oauth/token`, ...ccForm }),
        );
      }
    } finally {
      for (const name of [...running.keys()]) await stop(name);
    }
  }
  return { ccRequest, ccForm };
}
