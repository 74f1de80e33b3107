import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuthCoreConfig } from '../config/config';
import { OidcConfigError, parseOidcProviders } from './oidc-providers.config';

const dev = { allowInsecureHttp: true };
const prod = { allowInsecureHttp: false };
const acme = { name: 'acme', issuer: 'https://idp.acme.example', clientId: 'portcullis-web' };
const parse = (value: unknown, opts = dev) => parseOidcProviders(JSON.stringify(value), opts);
const problem = (value: unknown, opts = dev) => {
  try {
    parse(value, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(OidcConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
};

describe('OIDC_PROVIDERS parsing', () => {
  it('is empty when unset and fills every default', () => {
    expect(parseOidcProviders(undefined, dev)).toEqual([]);
    expect(parseOidcProviders('  ', dev)).toEqual([]);
    const [p] = parse([acme]);
    expect(p).toEqual({
      ...acme,
      audience: 'portcullis-web',
      baseUrl: 'https://idp.acme.example',
      rolesClaim: null,
      mapRoles: {},
      defaultRoles: ['user'],
      tenantsClaim: null,
      allowedAlgorithms: expect.arrayContaining(['RS256', 'ES256']),
    });
    expect(p.allowedAlgorithms.some((a) => a === 'none' || a.startsWith('HS'))).toBe(false);
  });

  it('takes every documented field and normalises a single mapped role to a list', () => {
    const [p] = parse([
      {
        ...acme,
        audience: 'api://portcullis',
        baseUrl: 'https://login.acme.example/authorize',
        rolesClaim: 'realm_access.roles',
        mapRoles: { admins: 'admin', ops: ['service', 'user'] },
        defaultRoles: [],
        tenantsClaim: 'tenants',
        allowedAlgorithms: ['ES256'],
      },
    ]);
    expect(p.mapRoles).toEqual({ admins: ['admin'], ops: ['service', 'user'] });
    expect(p).toMatchObject({ audience: 'api://portcullis', defaultRoles: [], allowedAlgorithms: ['ES256'] });
  });

  it('reads a file when the value is a path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify([acme]));
    expect(parseOidcProviders(file, dev)[0].name).toBe('acme');
    expect(() => parseOidcProviders(join(dir, 'missing.json'), dev)).toThrow(
      /OIDC_PROVIDERS is neither a JSON array nor a readable file \(ENOENT\)/,
    );
  });

  it('refuses what is not a JSON array of providers, naming OIDC_PROVIDERS', () => {
    expect(() => parseOidcProviders('[{', dev)).toThrow(/OIDC_PROVIDERS is not valid JSON/);
    expect(() => parseOidcProviders(JSON.stringify(acme), dev)).toThrow(/OIDC_PROVIDERS must be a JSON array/);
    expect(problem(['acme'])).toBe('OIDC_PROVIDERS[0]: must be an object');
  });

  it('names the provider and every problem at once', () => {
    const message = problem([acme, { name: 'Bad Name', issuer: 'ftp://x', clientId: '', extra: 1 }]);
    expect(message).toContain('OIDC_PROVIDERS[1] (Bad Name): unknown field extra');
    expect(message).toContain('name must be 1-32 of [a-z0-9-]');
    expect(message).toContain('issuer must be an https URL');
    expect(message).toContain('clientId must be a non-empty string');
    expect(message).not.toContain('OIDC_PROVIDERS[0]');
  });

  it('never accepts none or HMAC algorithms', () => {
    expect(problem([{ ...acme, allowedAlgorithms: ['none'] }])).toMatch(/allowedAlgorithms may only hold .*"none"/);
    expect(problem([{ ...acme, allowedAlgorithms: ['RS256', 'HS256'] }])).toMatch(/"HS256"/);
    expect(problem([{ ...acme, allowedAlgorithms: [] }])).toMatch(/allowedAlgorithms must be a non-empty list/);
  });

  it('never grants admin or system to everyone, but lets a mapped group have them', () => {
    expect(problem([{ ...acme, defaultRoles: ['user', 'system'] }])).toMatch(/defaultRoles must not contain system/);
    expect(problem([{ ...acme, defaultRoles: 'admin' }])).toMatch(/defaultRoles must not contain admin/);
    const [p] = parse([{ ...acme, rolesClaim: 'groups', mapRoles: { platform: ['system'] } }]);
    expect(p.mapRoles.platform).toEqual(['system']);
  });

  it('checks role names, claim names and the mapping needing a claim', () => {
    expect(problem([{ ...acme, rolesClaim: 'groups', mapRoles: { g: ['bad role'] } }])).toMatch(
      /mapRoles\["g"\] must be a role/,
    );
    expect(problem([{ ...acme, mapRoles: { g: 'user' } }])).toMatch(/mapRoles needs rolesClaim/);
    expect(problem([{ ...acme, rolesClaim: 'has space' }])).toMatch(/rolesClaim must be a claim name/);
    expect(problem([{ ...acme, tenantsClaim: 7 }])).toMatch(/tenantsClaim must be a claim name/);
  });

  it('keeps a group named like an Object.prototype member a plain group', () => {
    const [p] = parse([{ ...acme, rolesClaim: 'groups', mapRoles: JSON.parse('{"__proto__": ["user"]}') }]);
    expect(Object.keys(p.mapRoles)).toEqual(['__proto__']);
    expect(Object.hasOwn(p.mapRoles, 'constructor')).toBe(false);
  });

  it('wants https in production except on loopback, and unique names', () => {
    expect(problem([{ ...acme, issuer: 'http://idp.acme.example' }], prod)).toMatch(/issuer must be an https URL/);
    expect(parse([{ ...acme, issuer: 'http://idp.acme.example' }])[0].issuer).toBe('http://idp.acme.example');
    expect(parse([{ ...acme, issuer: 'http://127.0.0.1:8080/realms/x' }], prod)).toHaveLength(1);
    expect(problem([{ ...acme, issuer: 'https://idp.example/?a=1' }])).toMatch(/no query or fragment/);
    // An empty one too: users are keyed `issuer#sub`, so `https://x/#` + `y` would be `https://x/` + `#y`.
    expect(problem([{ ...acme, issuer: 'https://idp.example/#' }])).toMatch(/issuer must have no query or fragment/);
    expect(problem([{ ...acme, issuer: 'https://idp.example/?' }])).toMatch(/issuer must have no query or fragment/);
    // GET /auth/oidc/config shows both to anyone: a password in them would be published.
    expect(problem([{ ...acme, baseUrl: 'https://me:s3cret@idp.example/login' }])).toMatch(
      /baseUrl must have no user or password/,
    );
    expect(problem([{ ...acme, issuer: 'https://me@idp.example' }])).toMatch(/issuer must have no user or password/);
    expect(problem([acme, { ...acme, clientId: 'other' }])).toMatch(/OIDC_PROVIDERS\[1\] \(acme\): name is used twice/);
  });

  // Which mapping a token of that issuer and audience gets would depend on the order of the list.
  it('refuses two providers of one issuer and audience, but not one per client of an issuer', () => {
    expect(problem([acme, { ...acme, name: 'acme2' }])).toMatch(
      /OIDC_PROVIDERS\[1\] \(acme2\): issuer and audience are those of OIDC_PROVIDERS\[0\] \(acme\)/,
    );
    expect(
      problem([acme, { ...acme, name: 'acme2', issuer: `${acme.issuer}/`, clientId: 'x', audience: acme.clientId }]),
    ).toMatch(/OIDC_PROVIDERS\[1\] \(acme2\): issuer and audience are those of OIDC_PROVIDERS\[0\]/);
    expect(parse([acme, { ...acme, name: 'acme-cli', clientId: 'portcullis-cli' }])).toHaveLength(2);
  });

  it('stops auth-core configuration loading with a message naming OIDC_PROVIDERS', () => {
    const env = { DATABASE_URL: 'postgres://x@127.0.0.1/db', MASTER_KEY: 'k'.repeat(48), NODE_ENV: 'test' };
    expect(loadAuthCoreConfig({ ...env, OIDC_PROVIDERS: JSON.stringify([acme]) }).OIDC_PROVIDERS).toBeDefined();
    expect(() => loadAuthCoreConfig({ ...env, OIDC_PROVIDERS: '[{"name":"acme"}]' })).toThrow(
      /OIDC_PROVIDERS: OIDC_PROVIDERS\[0\] \(acme\): issuer must be a URL string/,
    );
    expect(() =>
      loadAuthCoreConfig({
        ...env,
        NODE_ENV: 'production',
        OIDC_PROVIDERS: JSON.stringify([{ ...acme, issuer: 'http://a.b' }]),
      }),
    ).toThrow(/OIDC_PROVIDERS.*issuer must be an https URL/);
    // NODE_ENV defaults to development: a deployment that forgot it must not fetch keys in clear.
    const { NODE_ENV: _test, ...unset } = env;
    for (const over of [{}, { NODE_ENV: 'development' }])
      expect(() =>
        loadAuthCoreConfig({ ...unset, ...over, OIDC_PROVIDERS: JSON.stringify([{ ...acme, issuer: 'http://a.b' }]) }),
      ).toThrow(/OIDC_PROVIDERS: OIDC_PROVIDERS\[0\] \(acme\): issuer must be an https URL/);
    const loopback = JSON.stringify([{ ...acme, issuer: 'http://localhost:8080/realms/dev' }]);
    expect(loadAuthCoreConfig({ ...unset, OIDC_PROVIDERS: loopback }).OIDC_PROVIDERS).toBe(loopback);
  });
});
