/**
 * The ceiling of the gateway's shape with no Portcullis code in it: Fastify (the gateway's HTTP
 * server) answering each request by one nats.js request to the no-op responder, the way the
 * gateway asks auth-core. `GET /noop` answers without NATS (Fastify alone); `GET /forward` and
 * `POST /forward` (a form body, like /oauth/token) go through NATS.
 * argv: port, subject, and `turn-end` to publish the requests of one event-loop turn together, as
 * the gateway does (libs/nats-options atTurnEnd: one socket write for all of them), or `body` to do
 * that and send the JSON body as it came (a stand-in gateway in front of the real auth-core).
 * Requests go through shape-kit's requestMux, as the gateway's go through its RequestMux.
 * Env: NATS_URL.
 */
import Fastify from 'fastify';
import { atTurnEnd, connectNats, requestMux } from './shape-kit.mjs';

const [port, subject, mode] = process.argv.slice(2);
const nc = await connectNats('bench-forward');
const request = requestMux(nc);
const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, Object.fromEntries(new URLSearchParams(body))),
);
const forward = async (req, reply) => {
  const payload =
    mode === 'body'
      ? JSON.stringify(req.body)
      : JSON.stringify({ token: req.headers.authorization ?? '', body: req.body ?? null });
  const send = () => request(subject, payload);
  const m = await (mode === 'turn-end' || mode === 'body'
    ? new Promise((resolve) => atTurnEnd(resolve)).then(send)
    : send());
  reply.type('application/json').send(m.data);
};
app.get('/noop', async () => ({ valid: true }));
app.get('/forward', forward);
app.post('/forward', forward);
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await app.close();
  await nc.drain();
  process.exit(0);
});
