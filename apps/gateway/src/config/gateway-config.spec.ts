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

  it('refuses a ROLE_PERMISSIONS it cannot use, naming the variable and the problem', () => {
    expect(() => loadGatewayConfig({ ROLE_PERMISSIONS: '{"service":["fly"]}' })).toThrow(
      /ROLE_PERMISSIONS: ROLE_PERMISSIONS role "service" names unknown permissions: fly/,
    );
    expect(loadGatewayConfig({ ROLE_PERMISSIONS: '{"service":["clients:read"]}' }).ROLE_PERMISSIONS).toBe(
      '{"service":["clients:read"]}',
    );
  });
});
