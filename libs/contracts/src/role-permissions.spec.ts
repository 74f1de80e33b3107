import { DEFAULT_ROLE_PERMISSIONS, parseRolePermissions, PERMISSIONS, permissionsOf } from './claims';

describe('ROLE_PERMISSIONS (the role map is configuration, SPEC §2)', () => {
  it('unset or blank is the defaults; a service account does not see other clients', () => {
    expect(parseRolePermissions(undefined)).toBe(DEFAULT_ROLE_PERMISSIONS);
    expect(parseRolePermissions('  ')).toBe(DEFAULT_ROLE_PERMISSIONS);
    expect(permissionsOf(['service'], DEFAULT_ROLE_PERMISSIONS)).not.toContain('clients:read');
  });

  it('replaces the roles it names, keeps the others, adds new ones', () => {
    const map = parseRolePermissions(
      '{"service":["token:validate","clients:read","clients:read"],"auditor":["audit:read"]}',
    );
    expect(map.service).toEqual(['token:validate', 'clients:read']);
    expect(map.auditor).toEqual(['audit:read']);
    expect(map.user).toEqual(DEFAULT_ROLE_PERMISSIONS.user);
    expect(map.admin).toEqual(PERMISSIONS);
    expect(permissionsOf(['auditor', 'user'], map)).toEqual([
      'audit:read',
      'token:validate',
      'tokens:read',
      'tokens:write',
    ]);
  });

  it.each([
    ['not JSON', '{service:', /JSON object/],
    ['an array', '[]', /JSON object/],
    ['a string per role', '{"service":"tokens:read"}', /array of permissions/],
    ['an unknown permission', '{"service":["tokens:read","fly"]}', /unknown permissions: fly/],
    ['admin changed', '{"admin":["tokens:read"]}', /admin role/],
    ['a bad role name', '{"Bad Role":[]}', /not a valid role name/],
  ])('refuses %s, saying why', (_label, raw, message) => {
    expect(() => parseRolePermissions(raw)).toThrow(message);
  });
});
