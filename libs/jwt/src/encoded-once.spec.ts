import { encodedOncePerClaims } from './encoded-once';

describe('encodedOncePerClaims', () => {
  it('encodes each claims object once, and a different object (even an equal one) anew', () => {
    const encode = jest.fn((c: object) => JSON.stringify({ valid: true, claims: c }));
    const encoded = encodedOncePerClaims(encode);
    const a = { sub: 'a' };
    expect(encoded(a)).toBe('{"valid":true,"claims":{"sub":"a"}}');
    expect(encoded(a)).toBe('{"valid":true,"claims":{"sub":"a"}}');
    expect(encode).toHaveBeenCalledTimes(1);
    expect(encoded({ sub: 'a' })).toBe('{"valid":true,"claims":{"sub":"a"}}');
    expect(encode).toHaveBeenCalledTimes(2);
  });
});
