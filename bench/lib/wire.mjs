/** What the bench sends and reads on the wire: NATS requests, Basic credentials, JWTs. */

/** A closed-loop op: request `i` sends payload `i` (round robin) to `subject` and checks the JSON reply. */
export function natsRequester(nc, subject, payloads, check) {
  return async (i) => {
    const msg = await nc.request(subject, payloads[i % payloads.length], { timeout: 10000 });
    const body = msg.json();
    if (!check(body)) throw new Error(`unexpected reply ${JSON.stringify(body).slice(0, 200)}`);
  };
}

export const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export function decodeJwt(token) {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    input: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
}
