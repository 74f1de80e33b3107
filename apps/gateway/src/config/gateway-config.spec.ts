import fastify from 'fastify';
import { loadGatewayConfig } from './gateway-config';

describe('gateway configuration', () => {
  it('validates JWTs locally unless told not to', () => {
    expect(loadGatewayConfig({}).LOCAL_JWT_VALIDATION).toBe(true);
    expect(loadGatewayConfig({ LOCAL_JWT_VALIDATION: 'false' }).LOCAL_JWT_VALIDATION).toBe(false);
    expect(loadGatewayConfig({ LOCAL_JWT_VALIDATION: '0' }).LOCAL_JWT_VALIDATION).toBe(false);
    expect(loadGatewayConfig({ LOCAL_JWT_VALIDATION: 'true' }).LOCAL_JWT_VALIDATION).toBe(true);
  });

  it.each(['yes', 'off', 'False '])('refuses LOCAL_JWT_VALIDATION=%j, naming the variable', (value) => {
    expect(() => loadGatewayConfig({ LOCAL_JWT_VALIDATION: value })).toThrow(
      /LOCAL_JWT_VALIDATION: LOCAL_JWT_VALIDATION must be true or false/,
    );
  });

  it('names every bad variable at once', () => {
    expect(() => loadGatewayConfig({ PORT: 'x', REQUEST_TIMEOUT_MS: '5', NATS_URL: 'http://nats' })).toThrow(
      /PORT: [\s\S]*NATS_URL: [\s\S]*REQUEST_TIMEOUT_MS: /,
    );
  });

  // Each passed the scheme check, then ended the gateway as a bare "TypeError: Invalid URL" stack.
  it.each(['nats://127.0.0.1:99999', 'nats://:4222', 'nats://127.0.0.1:abc', 'nats://ok:4222,nats://x y:4222'])(
    'refuses NATS_URL=%j, which does not parse as a URL, naming the variable',
    (value) => {
      expect(() => loadGatewayConfig({ NATS_URL: value })).toThrow(/NATS_URL: NATS_URL /);
    },
  );

  it.each(['nats://127.0.0.1:4222', 'nats://nats', 'tls://a:4222,tls://b:4222', 'tls://[::1]:4222'])(
    'takes NATS_URL=%j',
    (value) => {
      expect(loadGatewayConfig({ NATS_URL: value }).NATS_URL).toBe(value);
    },
  );

  // Read raw into every subject: a wildcard served (and streamed) every deployment's subjects, a
  // space ended the app as a bare "InvalidSubjectError: illegal subject".
  it.each(['*.', '>.', 'a b.', 'prod..', '.prod.', 'prod.*.'])(
    'refuses NATS_SUBJECT_PREFIX=%j, naming the variable',
    (value) => {
      expect(() => loadGatewayConfig({ NATS_SUBJECT_PREFIX: value })).toThrow(/NATS_SUBJECT_PREFIX: /);
    },
  );

  it.each(['prod.', 't1a2b3c.', 'team-a.prod.', 'prod_'])('takes NATS_SUBJECT_PREFIX=%j', (value) => {
    expect(() => loadGatewayConfig({ NATS_SUBJECT_PREFIX: value })).not.toThrow();
  });

  it('refuses a ROLE_PERMISSIONS it cannot use, naming the variable and the problem', () => {
    expect(() => loadGatewayConfig({ ROLE_PERMISSIONS: '{"service":["fly"]}' })).toThrow(
      /ROLE_PERMISSIONS: ROLE_PERMISSIONS role "service" names unknown permissions: fly/,
    );
    expect(loadGatewayConfig({ ROLE_PERMISSIONS: '{"service":["clients:read"]}' }).ROLE_PERMISSIONS).toBe(
      '{"service":["clients:read"]}',
    );
  });

  describe('TRUST_PROXY', () => {
    it.each([
      'true',
      '127.0.0.1',
      '10.0.0.0/8',
      '10.0.0.0/255.0.0.0',
      '192.168.1.0/32',
      '::1',
      'fd00::/8',
      '2001:db8::/128',
      '::ffff:10.0.0.1',
      '10.0.0.0/8, 172.16.0.0/12 ,::1',
    ])('takes %j, a value Fastify builds a server with', async (value) => {
      expect(loadGatewayConfig({ TRUST_PROXY: value }).TRUST_PROXY).toBe(value);
      // What main.ts hands Fastify: this used to be where a bad value threw its bare TypeError.
      const server = fastify({ trustProxy: value === 'true' ? true : value });
      await server.close();
    });

    it.each([
      ['999.1.1.1/99', /"999\.1\.1\.1" is not an IP address/],
      ['10.0.0.0/33', /"10\.0\.0\.0\/33" has a prefix length outside 1-32/],
      ['::/129', /"::\/129" has a prefix length outside 1-128/],
      ['10.0.0.0/0', /prefix length outside 1-32/],
      ['10.0.0.0/255.0.255.0', /invalid prefix length or netmask/],
      ['10.0.0.0/0.0.0.0', /invalid prefix length or netmask/],
      ['::1/255.0.0.0', /invalid prefix length or netmask/],
      ['10.0.0.0/x', /invalid prefix length or netmask/],
      ['1', /"1" is not an IP address \(hop counts are not supported/],
      ['false', /"false" is not an IP address/],
      ['10.0.0.1,', /an entry is empty/],
      ['10.0.0.1 10.0.0.2', /"10\.0\.0\.1 10\.0\.0\.2" is not an IP address/],
      ['010.0.0.1', /"010\.0\.0\.1" is not an IP address/],
      ['TRUE', /"TRUE" is not an IP address/],
    ])('refuses %j, naming the variable and the entry', (value, problem) => {
      let message = '';
      try {
        loadGatewayConfig({ TRUST_PROXY: value });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(
        /TRUST_PROXY: TRUST_PROXY must be true or a comma-separated list of IP addresses and CIDRs: /,
      );
      expect(message).toMatch(problem);
    });
  });
});

describe('SHUTDOWN_DELAY_MS', () => {
  // The delay is part of the shutdown SHUTDOWN_TIMEOUT_MS bounds: as long or longer, every SIGTERM
  // ended in "shutdown did not finish", exit 1, before the server had even stopped accepting.
  it.each([
    ['25000', undefined],
    ['9000', '8000'],
    ['8000', '8000'],
  ])('refuses %s with SHUTDOWN_TIMEOUT_MS=%s, naming both', (delay, timeout) => {
    expect(() =>
      loadGatewayConfig({ SHUTDOWN_DELAY_MS: delay, ...(timeout ? { SHUTDOWN_TIMEOUT_MS: timeout } : {}) }),
    ).toThrow(/SHUTDOWN_DELAY_MS: SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS/);
  });

  it('takes a delay within the timeout, as the k8s manifests set it', () => {
    expect(loadGatewayConfig({ SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '20000' }).SHUTDOWN_DELAY_MS).toBe(5000);
  });
});
