import { cannon } from '../lib/load.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';

/** HTTP validate through the gateway (JWT and PAT), after the gateway's own ceiling. */
export async function httpValidate(b, fx) {
  const { gw, sameToken, pat } = fx;
  const ac = b.httpLoop;
  // The gateway app itself (Nest on Fastify, its hooks: request id, metrics, logging context)
  // answering a constant, with the validate request's headers: the most any HTTP validate
  // served by this gateway could do, whether it asks auth-core or verified tokens itself.
  await b.phase(
    'ceiling.gateway.live',
    'ceiling',
    `the gateway app answering GET /health/live (a constant: no NATS, no validation), same headers, autocannon ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () => cannon({ url: `${gw}/health/live`, headers: { authorization: `Bearer ${sameToken}` }, ...ac }),
  );
  await b.phase(
    'pcl.http.validate',
    'portcullis',
    `GET /api/v1/auth/validate (JWT), autocannon ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () => cannon({ url: `${gw}/api/v1/auth/validate`, headers: { authorization: `Bearer ${sameToken}` }, ...ac }),
  );
  await b.phase(
    'pcl.http.pat_validate',
    'portcullis',
    `GET /api/v1/auth/validate with a PAT, autocannon ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () => cannon({ url: `${gw}/api/v1/auth/validate`, headers: { authorization: `Bearer ${pat}` }, ...ac }),
  );
}
