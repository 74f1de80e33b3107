import { foldBracketKeys } from './query-brackets';

describe('foldBracketKeys', () => {
  // axios (and PHP, Rails, qs with arrayFormat "brackets") write a list as `roles[]=a&roles[]=b`.
  it('reads `name[]` as `name`, one value or many', () => {
    expect(foldBracketKeys({ 'roles[]': 'admin', limit: '5' })).toEqual({ roles: 'admin', limit: '5' });
    expect(foldBracketKeys({ 'client_ids[]': ['a', 'b'] })).toEqual({ client_ids: ['a', 'b'] });
  });

  it('joins `name[]` to `name` when both are sent (the validator then sees every value)', () => {
    expect(foldBracketKeys({ roles: 'a', 'roles[]': ['b', 'c'] })).toEqual({ roles: ['a', 'b', 'c'] });
  });

  it('leaves every other key as it is, for the validator to judge', () => {
    const query = { 'roles[0]': 'a', '[]': 'x', 'a[b]': 'c', limit: '1' };
    expect(foldBracketKeys(query)).toEqual(query);
  });

  it('keeps a query without bracketed keys as the same object', () => {
    const query = { limit: '1' };
    expect(foldBracketKeys(query)).toBe(query);
  });
});
