import { cannon } from '../lib/load.mjs';
import { http, must } from '../lib/stack.mjs';
import { closedLoop } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';

/** POST /api/v1/auth/refresh under load: refresh token rotation. */
export async function refresh(b, fx) {
  const { gw, loginBody } = fx;
  // Each refresh token is good for one use (rotation with reuse detection), so the
  // connections draw from a shared pool and put back the token each answer brings.
  const pool = [];
  // Each attempt's warm-up and measured run strand up to one token per connection (the
  // request in flight when the run stops), so the pool is topped up before every attempt.
  const topUp = () =>
    closedLoop({
      concurrency: 4,
      durationMs: 600_000,
      maxOps: Math.max(0, HTTP_CONNECTIONS * 3 - pool.length),
      op: async () => {
        const r = must(await http(gw).post('/api/v1/auth/login', JSON.parse(loginBody())), 200, 'login');
        pool.push(r.refresh_token);
      },
    });
  await b.phase(
    'pcl.http.refresh',
    'portcullis',
    `POST /api/v1/auth/refresh (rotation), ${HTTP_CONNECTIONS} connections`,
    { concurrency: HTTP_CONNECTIONS },
    () =>
      cannon({
        url: `${gw}/api/v1/auth/refresh`,
        ...b.httpLoop,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ refresh_token: pool.shift() ?? 'exhausted' }),
            }),
            onResponse: (status, body) => {
              if (status === 200) pool.push(JSON.parse(body).refresh_token);
            },
          },
        ],
      }),
    { before: topUp },
  );
}
