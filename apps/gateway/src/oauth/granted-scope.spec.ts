import { grantedScope } from './granted-scope';

describe('grantedScope (RFC 6749 §3.3)', () => {
  it('is absent when no scope was asked', () => {
    expect(grantedScope(undefined, ['admin'])).toBeUndefined();
    expect(grantedScope('', ['admin'])).toBeUndefined();
    expect(grantedScope('   ', ['admin'])).toBeUndefined();
  });

  it('is absent when what was granted is what was asked, in any order', () => {
    expect(grantedScope('user reader', ['reader', 'user'])).toBeUndefined();
    expect(grantedScope('user  user', ['user'])).toBeUndefined();
  });

  it('names every role granted when it differs from the request: narrower, wider or other', () => {
    expect(grantedScope('reader', ['admin'])).toBe('admin');
    expect(grantedScope('user', ['user', 'reader'])).toBe('user reader');
    expect(grantedScope('user reader admin', ['user', 'reader'])).toBe('user reader');
  });
});
