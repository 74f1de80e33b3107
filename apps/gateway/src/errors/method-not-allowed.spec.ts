import Fastify from 'fastify';
import { allowedMethods } from './method-not-allowed';

describe('allowedMethods', () => {
  const app = Fastify();
  app.get('/things/:id', () => 'one');
  app.delete('/things/:id', () => '');
  app.post('/things', () => 'made');
  app.get('/matched', (req) => ({ allow: allowedMethods(req) }));
  app.setNotFoundHandler((req, reply) => reply.code(req.is404 ? 404 : 500).send({ allow: allowedMethods(req) }));
  let base: string;
  beforeAll(async () => {
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  const allowOf = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string) =>
    ((await (await fetch(`${base}${url}`, { method })).json()) as { allow: string[] | null }).allow;

  it('names every method of a parametric path, HEAD with GET, whatever the query string', async () => {
    expect(await allowOf('PATCH', '/things/42?x=1')).toEqual(['GET', 'HEAD', 'DELETE']);
    expect(await allowOf('PUT', '/things')).toEqual(['POST']);
  });

  // The gateway's router (Nest's routes) matches nothing with an empty parameter; findRoute does,
  // so GET /api/v1/tokens/ was told "GET is not allowed here; use GET, HEAD, DELETE".
  it('is null for an unmatched path with an empty segment, whatever the method', () => {
    const unmatched = (method: string, url: string) =>
      allowedMethods({ is404: true, method, url, server: app } as Parameters<typeof allowedMethods>[0]);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      expect(unmatched(method, '/things/')).toBeNull();
      expect(unmatched(method, '/things//x')).toBeNull();
    }
    // ...and when the method asked is one findRoute names, the two disagree: no 405 either.
    expect(unmatched('GET', '/things/42')).toBeNull();
    expect(unmatched('PATCH', '/things/42')).toEqual(['GET', 'HEAD', 'DELETE']);
  });

  it('is null for a path no route has, and for a request a route matched', async () => {
    expect(await allowOf('GET', '/nothing/here')).toBeNull();
    expect(await allowOf('GET', '/things/42/more')).toBeNull();
    expect(await allowOf('GET', '/matched')).toBeNull();
  });
});
