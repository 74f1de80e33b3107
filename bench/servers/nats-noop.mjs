/**
 * The raw NATS ceiling's responder: nats.js, a queue subscription, and a reply that does no work:
 * the very bytes of a real validate reply, prepared once, so that the load generator decodes the
 * same JSON from it as from auth-core (a padded `{valid}` of the same size parses faster, and
 * that difference would land on the ceiling's side). Started as its own process, like auth-core.
 * Also the constant-answer core behind the second gateway of pcl.http.login.gateway_alone, there
 * with the bytes of a real login reply. argv: subject, the reply (base64).
 */
import { connect } from '@nats-io/transport-node';

const [subject, replyBase64] = process.argv.slice(2);
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-noop' });
const reply = Buffer.from(replyBase64, 'base64');
nc.subscribe(subject, { queue: 'bench-noop', callback: (_err, msg) => msg.respond(reply) });
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await nc.drain();
  process.exit(0);
});
