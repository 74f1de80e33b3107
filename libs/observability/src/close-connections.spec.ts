import { connect } from 'node:net';
import Fastify from 'fastify';
import { closeIdleConnectionsWhileClosing } from './close-connections';

/** Sends one request on a raw keep-alive connection; resolves the raw answer once the socket is closed. */
function keepAliveRequest(port: number, path: string, onSent: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
      onSent();
    });
    let raw = '';
    socket.setEncoding('latin1').on('data', (d: string) => (raw += d));
    socket.once('error', reject).once('close', () => resolve(raw));
  });
}

describe('closeIdleConnectionsWhileClosing', () => {
  const app = Fastify();
  closeIdleConnectionsWhileClosing(app);
  app.get('/slow', async () => {
    await new Promise((r) => setTimeout(r, 150));
    return { ok: true };
  });
  app.get('/fast', async () => ({ ok: true }));
  let port: number;

  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });

  it('keeps connections alive while the server runs', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/fast`);
    expect(res.headers.get('connection')).toBe('keep-alive');
  });

  it('a keep-alive connection busy when closing begins is answered, then closed: the close does not wait for its keep-alive timeout', async () => {
    let sent!: () => void;
    const requestSent = new Promise<void>((r) => (sent = r));
    const answer = keepAliveRequest(port, '/slow', sent);
    await requestSent;
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    await app.close();
    const raw = await answer;
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toContain('{"ok":true}');
    // Well under Fastify's 72 s keep-alive timeout, which held the close before.
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
