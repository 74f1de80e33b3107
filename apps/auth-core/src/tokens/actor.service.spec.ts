import { AccessTokenClaims, PERMISSIONS, PortcullisError, TokenType } from '@portcullis/contracts';
import { Actor, requireSession, requireWithin, tenantsBeyond } from './actor.service';

const actorOf = (typ: TokenType, perms?: string[]): Actor => ({
  claims: { typ, sub: 's', ...(perms ? { perms } : {}) } as AccessTokenClaims,
  permissions: perms ?? [],
  principalId: 's',
  isUser: typ === 'user' || typ === 'pat',
  session: false,
});

const refusal = (actor: Actor): string => {
  try {
    requireSession(actor, 'issue or delete API keys');
  } catch (err) {
    expect(err).toBeInstanceOf(PortcullisError);
    expect((err as PortcullisError).code).toBe('FORBIDDEN');
    return (err as PortcullisError).message;
  }
  throw new Error('not refused');
};

describe('requireSession', () => {
  it.each([
    ['extended', 'An extended token'],
    ['apikey', 'An apikey token'],
    ['pat', 'A pat token'],
    ['system', 'A system token'],
  ] as const)('refuses a token of type %s, with the article its sound takes', (typ, start) => {
    expect(refusal(actorOf(typ))).toBe(
      `${start} cannot issue or delete API keys; use a login session or the client's own token`,
    );
  });

  it('refuses a narrowed session as such', () => {
    expect(refusal(actorOf('user', ['tokens:read']))).toBe(
      'A token narrowed to permissions cannot issue or delete API keys',
    );
  });

  it('lets a session through', () => {
    expect(() => requireSession({ ...actorOf('user'), session: true }, 'x')).not.toThrow();
  });
});

describe('tenantsBeyond / requireWithin with tenants', () => {
  const manager = (tenants: string[], permissions = ['users:write', 'clients:write']): Actor => ({
    claims: { typ: 'user', sub: 's', roles: ['tenant-admin'], tenants } as unknown as AccessTokenClaims,
    permissions,
    principalId: 's',
    isUser: true,
    session: true,
  });

  it('names the tenants the token does not carry, * among them', () => {
    expect(tenantsBeyond(manager(['acme']), ['acme', 'globex', '*'])).toEqual(['globex', '*']);
    expect(tenantsBeyond(manager(['acme']), ['acme'])).toEqual([]);
    expect(tenantsBeyond(manager([]), [])).toEqual([]);
  });

  it('bounds neither a token of * nor a holder of every permission', () => {
    expect(tenantsBeyond(manager(['*']), ['globex', '*'])).toEqual([]);
    expect(tenantsBeyond(manager([], [...PERMISSIONS]), ['globex', '*'])).toEqual([]);
  });

  it('refuses as FORBIDDEN, naming the tenants', () => {
    let err: unknown;
    try {
      requireWithin(manager(['acme']), [], 'Changing user u', ['globex']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PortcullisError);
    expect(err).toMatchObject({ code: 'FORBIDDEN', message: 'Changing user u needs tenants this token lacks: globex' });
  });
});
