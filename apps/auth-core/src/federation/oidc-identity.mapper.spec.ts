import { claimAt, externalSubject, rolesFor, tenantsFor, usernameFor } from './oidc-identity.mapper';
import { OidcProvider } from './oidc-providers.config';

const provider = (over: Partial<OidcProvider> = {}): OidcProvider => ({
  name: 'acme',
  issuer: 'https://idp.acme.example',
  clientId: 'web',
  audience: 'web',
  baseUrl: 'https://idp.acme.example',
  rolesClaim: 'groups',
  mapRoles: { 'acme-admins': ['admin'], ops: ['service', 'user'] },
  defaultRoles: ['user'],
  tenantsClaim: null,
  allowedAlgorithms: ['RS256'],
  ...over,
});

describe('OIDC identity mapping', () => {
  it('finds claims by exact name first, then by dotted path', () => {
    const claims = { 'https://acme.example/roles': ['a'], realm_access: { roles: ['b'] }, 'x.y': 1, x: { y: 2 } };
    expect(claimAt(claims, 'https://acme.example/roles')).toEqual(['a']);
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['b']);
    expect(claimAt(claims, 'x.y')).toBe(1);
    expect(claimAt(claims, 'realm_access.missing')).toBeUndefined();
    expect(claimAt(claims, 'realm_access.roles.length')).toBeUndefined();
    expect(claimAt({}, 'constructor.name')).toBeUndefined();
  });

  it('grants default roles plus mapped ones, never a group name itself', () => {
    expect(rolesFor(provider(), { groups: ['ops', 'admin', 'system'] })).toEqual(['service', 'user']);
    expect(rolesFor(provider(), { groups: 'acme-admins' })).toEqual(['admin', 'user']);
    expect(rolesFor(provider(), { groups: [{ name: 'ops' }, 42] })).toEqual(['user']);
    expect(rolesFor(provider({ defaultRoles: [] }), {})).toEqual([]);
    expect(rolesFor(provider(), { groups: ['__proto__', 'constructor', 'toString'] })).toEqual(['user']);
  });

  it('takes tenants only from the configured claim, never the wildcard', () => {
    expect(tenantsFor(provider(), { tenants: ['t1'] })).toBeNull();
    const p = provider({ tenantsClaim: 'org.tenants' });
    expect(tenantsFor(p, { org: { tenants: ['t2', 't1', '*', 'bad tenant', 't1'] } })).toEqual(['t1', 't2']);
    expect(tenantsFor(p, {})).toEqual([]);
  });

  it('keys users by issuer and subject and derives a username local users cannot take', () => {
    expect(externalSubject('https://idp.acme.example', 'abc')).toBe('https://idp.acme.example#abc');
    expect(usernameFor(provider(), 'abc')).toBe('acme:abc');
    const long = usernameFor(provider(), 'x'.repeat(200));
    expect(long).toMatch(/^acme:[A-Za-z0-9_-]{43}$/);
    expect(usernameFor(provider(), 'x'.repeat(200))).toBe(long);
  });
});
