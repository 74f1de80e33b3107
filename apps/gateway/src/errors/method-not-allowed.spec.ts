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

  it('is null for a path no route has, and for a request a route matched', async () => {
    expect(await allowOf('GET', '/nothing/here')).toBeNull();
    expect(await allowOf('GET', '/things/42/more')).toBeNull();
    expect(await allowOf('GET', '/matched')).toBeNull();
  });
});
