import { PortcullisError } from '@portcullis/contracts';
import { narrowToScope, scopeTokens } from './scope-narrowing';

describe('scope narrowing (RFC 6749 §3.3)', () => {
  it('reads a scope value as its distinct space-delimited tokens', () => {
    expect(scopeTokens(undefined)).toEqual([]);
    expect(scopeTokens('  ')).toEqual([]);
    expect(scopeTokens('user  tokens:read user')).toEqual(['user', 'tokens:read']);
  });

  it("leaves out OpenID Connect's identity scopes, which client libraries ask by default", () => {
    expect(scopeTokens('openid profile email offline_access')).toEqual([]);
    expect(scopeTokens('openid tokens:read')).toEqual(['tokens:read']);
  });

  it('grants everything held when nothing is asked', () => {
    expect(narrowToScope(['user', 'service'], [], 'user')).toEqual({ roles: ['user', 'service'] });
  });

  it('replaces the roles with the roles named and narrows to the permissions named', () => {
    expect(narrowToScope(['user', 'service'], ['service'], 'user')).toEqual({ roles: ['service'] });
    expect(narrowToScope(['admin'], ['users:read'], 'user')).toEqual({ roles: ['admin'], perms: ['users:read'] });
    expect(narrowToScope(['user', 'service'], ['service', 'tokens:read'], 'user')).toEqual({
      roles: ['service'],
      perms: ['tokens:read'],
    });
  });

  it('refuses a scope token the principal does not hold, naming it', () => {
    const refuse = () => narrowToScope(['user'], ['tokens:read', 'users:write', 'admin'], 'user');
    expect(refuse).toThrow(PortcullisError);
    expect(refuse).toThrow('Scope not allowed for this user: users:write admin');
    expect(() => narrowToScope(['user'], ['nonsense'], 'client')).toThrow(
      'Scope not allowed for this client: nonsense',
    );
  });
});
