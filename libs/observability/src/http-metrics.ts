import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, register } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Request count and latency per route on a Fastify server, as `<prefix>http_requests_total` and
 * `<prefix>http_request_duration_seconds`. The route is the pattern (`/api/v1/tokens/:tid`), never
 * the raw URL, so ids do not explode the label set; unmatched URLs share one label. Returns the
 * observer, for the answers that bypass Fastify's hooks.
 */
export function instrumentHttp(
  fastify: FastifyInstance,
  prefix: string,
  onResponse?: (req: FastifyRequest, reply: FastifyReply) => void,
): (req: FastifyRequest, reply: FastifyReply) => void {
  const labelNames = ['method', 'route', 'status'] as const;
  const count =
    (register.getSingleMetric(`${prefix}http_requests_total`) as Counter<(typeof labelNames)[number]>) ??
    new Counter({ name: `${prefix}http_requests_total`, help: 'HTTP requests by route and status', labelNames });
  const duration =
    (register.getSingleMetric(`${prefix}http_request_duration_seconds`) as Histogram<(typeof labelNames)[number]>) ??
    new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration by route and status',
      labelNames,
      buckets: BUCKETS,
    });
  const observe = (req: FastifyRequest, reply: FastifyReply) => {
    const labels = {
      method: req.method,
      route: req.routeOptions?.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    count.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    onResponse?.(req, reply);
  };
  fastify.addHook('onResponse', (req, reply, done) => {
    observe(req, reply);
    done();
  });
  // For what no hook sees: Fastify's router answers a malformed URL (frameworkErrors) without them.
  return observe;
}
