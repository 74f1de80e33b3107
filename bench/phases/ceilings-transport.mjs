import { cannon } from '../lib/load.mjs';
import { freePort } from '../lib/procs.mjs';
import { NATS_URL } from '../lib/stack.mjs';
import { closedLoop } from '../lib/stats.mjs';
import { HTTP_CONNECTIONS } from '../lib/harness.mjs';
import { decodeJwt, natsRequester } from '../lib/wire.mjs';

/** The raw NATS ceiling's no-op responder, answering the bytes of a real validate reply. */
export async function startNoop(b, stack, fx) {
  const subject = stack.subject('bench.noop');
  const reply = Buffer.from(fx.sampleReply).toString('base64');
  const server = await b.startServer('nats-noop', 'nats-noop.mjs', [subject, reply], { NATS_URL });
  return {
    subject,
    stop: async () => {
      await server.stop();
      b.mem.untrack('nats-noop');
    },
  };
}

/**
 * Ceilings of the transports: raw nats.js request/reply, Fastify alone and Fastify forwarding
 * each request over NATS, and the least-work NATS validator of distinct tokens.
 */
export async function transportCeilings(b, stack, fx) {
  const { nc, samePayload, sameToken, distinctPayloads, sampleReply, jwks } = fx;
  const loop = b.loop;
  {
    const { subject, stop: stopNoop } = await startNoop(b, stack, fx);
    const op = natsRequester(nc, subject, samePayload, (r) => r.valid === true);
    for (const c of [1, 64])
      await b.phase(
        `ceiling.nats.c${c}`,
        'ceiling',
        `raw nats.js request/reply, no-op responder, ${c} in flight`,
        { concurrency: c },
        () => closedLoop({ concurrency: c, ...loop, op }),
      );
    // The gateway's shape without Portcullis: Fastify, one nats.js request per HTTP request to
    // the same no-op responder. No gateway→auth-core design can beat it on this machine.
    const fwdPort = await freePort();
    const fwd = await b.startServer('http-nats-forward', 'http-nats-forward.mjs', [String(fwdPort), subject], {
      NATS_URL,
    });
    const fwdUrl = `http://127.0.0.1:${fwdPort}`;
    const hac = b.httpLoop;
    await b.phase(
      'ceiling.http.fastify',
      'ceiling',
      `Fastify alone, GET answering a constant, autocannon ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${fwdUrl}/noop`, ...hac }),
    );
    await b.phase(
      'ceiling.http_nats.get',
      'ceiling',
      `Fastify + one nats.js request to the no-op responder per GET (the gateway's shape, no Portcullis code), ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () => cannon({ url: `${fwdUrl}/forward`, headers: { authorization: `Bearer ${sameToken}` }, ...hac }),
    );
    await b.phase(
      'ceiling.http_nats.form',
      'ceiling',
      `the same with a form-encoded POST (the shape of /oauth/token), ${HTTP_CONNECTIONS} connections`,
      { concurrency: HTTP_CONNECTIONS },
      () =>
        cannon({
          url: `${fwdUrl}/forward`,
          method: 'POST',
          headers: { authorization: 'Basic YmVuY2g6YmVuY2g=', 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
          ...hac,
        }),
    );
    await fwd.stop();
    b.mem.untrack('http-nats-forward');
    await stopNoop();
  }
  // The least work any NATS validator must do per distinct token (parse, ES256 verify, reply),
  // inline and on 1 or 2 worker threads: the bound for the distinct-token rows on this machine.
  {
    const kid = decodeJwt(sameToken).header.kid;
    const jwk = JSON.stringify(jwks.find((k) => k.kid === kid));
    for (const workers of [0, 1, 2]) {
      const subject = stack.subject(`bench.verify${workers}`);
      const name = 'nats-verify';
      const verifier = await b.startServer(
        name,
        'nats-verify.mjs',
        [subject, String(sampleReply.length), jwk, String(workers)],
        { NATS_URL },
      );
      const op = natsRequester(nc, subject, distinctPayloads, (r) => r.valid === true);
      await b.phase(
        workers ? `ceiling.nats_verify.workers${workers}.c64` : 'ceiling.nats_verify.c64',
        'ceiling',
        `raw nats.js responder: parse each of the ${distinctPayloads.length} distinct tokens, verify its ES256 signature (node:crypto) ${workers ? `on ${workers} worker thread${workers > 1 ? 's' : ''} (the main thread only doing NATS I/O)` : 'inline'}, reply; no other work; 64 in flight`,
        { concurrency: 64 },
        () => closedLoop({ concurrency: 64, ...loop, op }),
      );
      await verifier.stop();
      b.mem.untrack(name);
    }
  }
}
