/**
 * The raw NATS ceiling's responder: nats.js, a queue subscription, and a reply that does no work
 * (a prepared buffer the size of a real validate reply). Started as its own process, like auth-core.
 * argv: subject, reply size in bytes.
 */
import { connect } from '@nats-io/transport-node';

const [subject, size] = process.argv.slice(2);
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-noop' });
const reply = Buffer.from(JSON.stringify({ valid: true, pad: 'x'.repeat(Math.max(0, Number(size) - 26)) }));
nc.subscribe(subject, { queue: 'bench-noop', callback: (_err, msg) => msg.respond(reply) });
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await nc.drain();
  process.exit(0);
});
