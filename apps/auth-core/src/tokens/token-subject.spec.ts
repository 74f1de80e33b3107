import { userIdOf } from './token-subject';

describe('userIdOf', () => {
  const id = '3f2b8c1e-6a4d-4e7b-9c0a-1d2e3f4a5b6c';

  it("is the sub of a user's session and PAT tokens", () => {
    expect(userIdOf({ typ: 'user', sub: id })).toBe(id);
    expect(userIdOf({ typ: 'pat', sub: id })).toBe(id);
  });

  it('is null for the kinds whose sub is a client, even a client id shaped like a uuid', () => {
    for (const typ of ['client', 'system', 'extended', 'apikey'] as const)
      expect(userIdOf({ typ, sub: id })).toBeNull();
    expect(userIdOf({ typ: 'user', sub: 'svc-client' })).toBeNull();
  });
});
