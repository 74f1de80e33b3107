import type { FastifyInstance } from 'fastify';

/**
 * From the moment `stopping()` turns true, every reply carries `Connection: close`. The server's
 * close only ends the keep-alive connections that are idle at that instant; one busy then (a login
 * in flight, a metrics scrape) would stay open after its reply until its keep-alive timeout (72 s),
 * holding the shutdown past its bound. Clients open new connections, which the load balancer sends
 * to the other replicas.
 */
export function closeConnectionsOnShutdown(fastify: FastifyInstance, stopping: () => boolean): void {
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (stopping()) reply.header('Connection', 'close');
    done(null, payload);
  });
}
