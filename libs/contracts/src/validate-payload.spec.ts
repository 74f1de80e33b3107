import * as classTransformer from 'class-transformer';
import { LoginRequestDto } from './dto/auth.dto';
import { UpdateClientRequest } from './dto/clients.dto';
import { ValidateTokenRequestDto } from './dto/validate-token.dto';
import { PortcullisError } from './error-codes';
import { badRequest, nestedDeeperThan, validatePayload } from './validate-payload';

/** Runs validatePayload and returns the error it throws (fails the test when it does not throw). */
function rejectionOf(cls: new () => object, payload: unknown): PortcullisError {
  try {
    validatePayload(cls, payload);
  } catch (err) {
    expect(err).toBeInstanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error(`validatePayload accepted ${JSON.stringify(payload)}`);
}

const fieldsOf = (err: PortcullisError) => (err.details ?? []).map((d) => d.field).sort();

describe('validatePayload', () => {
  it('returns a DTO instance for a good payload', () => {
    const dto = validatePayload(LoginRequestDto, { username: 'alice', password: 'secret', clientId: 'web' });
    expect(dto).toBeInstanceOf(LoginRequestDto);
    expect(dto).toEqual({ username: 'alice', password: 'secret', clientId: 'web' });
  });

  it('accepts optional fields left out', () => {
    const dto = validatePayload(ValidateTokenRequestDto, { token: 'abc' });
    expect(dto.token).toBe('abc');
    expect(dto.roles).toBeUndefined();
  });

  it('rejects an unknown field and names it', () => {
    const err = rejectionOf(LoginRequestDto, { username: 'alice', password: 'secret', isAdmin: true });
    expect(err.code).toBe('BAD_REQUEST');
    expect(fieldsOf(err)).toEqual(['isAdmin']);
    expect(err.message).toContain('isAdmin');
  });

  it('does not let __proto__ in a payload pollute prototypes', () => {
    const payload = JSON.parse('{"username":"a","password":"b","__proto__":{"polluted":1}}');
    try {
      const dto = validatePayload(LoginRequestDto, payload);
      expect((dto as unknown as Record<string, unknown>).polluted).toBeUndefined();
    } catch {
      /* rejected: also fine */
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['__proto__', 'constructor', 'toString'])(
    'rejects the unknown field %s like any other unknown field',
    (key) => {
      const payload = JSON.parse(`{"username":"a","password":"b","${key}":{"x":1}}`);
      const err = rejectionOf(LoginRequestDto, payload);
      expect(err.code).toBe('BAD_REQUEST');
      expect(fieldsOf(err)).toEqual([key]);
    },
  );

  it('rejects wrong types and names every bad field', () => {
    const err = rejectionOf(LoginRequestDto, { username: 123, password: {} });
    expect(err.code).toBe('BAD_REQUEST');
    expect(fieldsOf(err)).toEqual(['password', 'username']);
    for (const d of err.details ?? []) expect(d.errors.length).toBeGreaterThan(0);
  });

  it('rejects missing required fields', () => {
    const err = rejectionOf(LoginRequestDto, {});
    expect(fieldsOf(err)).toEqual(['password', 'username']);
  });

  it('rejects empty and over-long strings', () => {
    expect(fieldsOf(rejectionOf(LoginRequestDto, { username: '', password: 'x' }))).toEqual(['username']);
    expect(fieldsOf(rejectionOf(LoginRequestDto, { username: 'a', password: 'x'.repeat(1025) }))).toEqual(['password']);
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 'x'.repeat(8193) }))).toEqual(['token']);
  });

  it('rejects wrong element types and sizes in arrays', () => {
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', roles: 'admin' }))).toEqual(['roles']);
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', roles: [1, 2] }))).toEqual(['roles']);
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', permissions: Array(33).fill('p') }))).toEqual([
      'permissions',
    ]);
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', tenant: ['a'] }))).toEqual(['tenant']);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'token'],
    ['a number', 42],
    ['a boolean', true],
    ['an array', [{ username: 'a', password: 'b' }]],
  ])('rejects %s as the body', (_label, payload) => {
    const err = rejectionOf(LoginRequestDto, payload);
    expect(err.code).toBe('BAD_REQUEST');
    expect(fieldsOf(err)).toEqual(['(body)']);
  });

  it('serialises to the wire with the details', () => {
    const err = rejectionOf(LoginRequestDto, { username: 1, password: 'x' });
    expect(err.toWire()).toEqual({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('username'),
      details: [{ field: 'username', errors: expect.any(Array) }],
    });
  });

  it('badRequest lists each field once in the message', () => {
    const err = badRequest([
      { field: 'a', errors: ['x'] },
      { field: 'a', errors: ['y'] },
      { field: 'b', errors: ['z'] },
    ]);
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe('Invalid request: a, b');
  });

  it('refuses a NUL character in any string or field name, naming the field (PostgreSQL cannot take one)', () => {
    const err = rejectionOf(LoginRequestDto, { username: 'ali\u0000ce', password: 'secret' });
    expect(err.code).toBe('BAD_REQUEST');
    expect(fieldsOf(err)).toEqual(['username']);
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', roles: ['a', 'b\u0000'] }))).toEqual([
      'roles.1',
    ]);
    expect(fieldsOf(rejectionOf(LoginRequestDto, { username: 'a', password: 'b', 'x\u0000': 1 }))).toEqual(['x\u0000']);
  });

  it('refuses null for an optional field unless the DTO marks it @Nullable()', () => {
    const err = rejectionOf(ValidateTokenRequestDto, { token: 't', roles: null, tenant: null });
    expect(fieldsOf(err)).toEqual(['roles', 'tenant']);
    expect(
      validatePayload(UpdateClientRequest, { auth: 'a', clientId: 'c', maxTokenLifetime: null }).maxTokenLifetime,
    ).toBeNull();
    expect(
      fieldsOf(rejectionOf(UpdateClientRequest, { auth: 'a', clientId: 'c', tenants: null, description: null })),
    ).toEqual(['description', 'tenants']);
  });

  it('names at most 20 fields, clipped, and says how many more: the answer stays small', () => {
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 0]));
    const err = rejectionOf(ValidateTokenRequestDto, { token: 't', ...many });
    expect(err.details).toHaveLength(20);
    expect(err.message).toMatch(/^Invalid request: k0, k1, .*k19 and 19980 more$/);
    const long = rejectionOf(ValidateTokenRequestDto, { token: 't', ['k'.repeat(400_000)]: 1 });
    expect(JSON.stringify({ m: long.message, d: long.details }).length).toBeLessThan(2_000);
  });

  it('hands class-transformer only the declared fields: unknown ones are named without being walked again', () => {
    const spy = jest.spyOn(classTransformer, 'plainToInstance');
    try {
      const many = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 0]));
      const err = rejectionOf(LoginRequestDto, { username: 123, password: 'secret', ...many });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(Object.keys(spy.mock.calls[0][1] as object).sort()).toEqual(['password', 'username']);
      // The known field's own error is still named beside the unknown ones.
      expect(err.message).toMatch(/^Invalid request: k0, .* and \d+ more$/);
      expect(new Set(fieldsOf(rejectionOf(LoginRequestDto, { username: 123, password: 'p', x: 1 })))).toEqual(
        new Set(['username', 'x']),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('names an unknown field once, and a null unknown field as unknown', () => {
    const err = rejectionOf(ValidateTokenRequestDto, { token: 't', extra: null, roles: null });
    expect(err.details).toEqual([
      { field: 'extra', errors: ['property extra should not exist'] },
      { field: 'roles', errors: ['roles must not be null (leave it out instead)'] },
    ]);
  });

  it('refuses input nested deeper than 32 levels as bad input, before anything recurses into it', () => {
    const deep = (n: number) => {
      let v: unknown = 1;
      for (let i = 0; i < n; i++) v = { a: v };
      return v;
    };
    expect(nestedDeeperThan({ x: deep(32) })).toBe(false);
    expect(nestedDeeperThan({ x: deep(33) })).toBe(true);
    expect(nestedDeeperThan([[[[]]]], 3)).toBe(false);
    expect(nestedDeeperThan([[[[[]]]]], 3)).toBe(true);
    const err = rejectionOf(ValidateTokenRequestDto, { token: 't', roles: deep(10_000) });
    expect(err.code).toBe('BAD_REQUEST');
    expect(fieldsOf(err)).toEqual(['(body)']);
  });

  it('a clientIp must be an IP address', () => {
    expect(fieldsOf(rejectionOf(ValidateTokenRequestDto, { token: 't', clientIp: 'not an ip <x>' }))).toEqual([
      'clientIp',
    ]);
    expect(validatePayload(ValidateTokenRequestDto, { token: 't', clientIp: '::ffff:10.0.0.1' }).clientIp).toBe(
      '::ffff:10.0.0.1',
    );
  });
});
