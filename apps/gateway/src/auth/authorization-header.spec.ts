import { authorizationFields, bearerToken, normalisedAuthorization } from './authorization-header';

describe('the Authorization header', () => {
  it('takes a bearer token, any case of the scheme, once the header is normalised', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken(normalisedAuthorization('bearer   abc.def  '))).toBe('abc.def');
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('is normalised to one space for passport, and left alone when it already is', () => {
    const usual = 'Bearer abc';
    expect(normalisedAuthorization(usual)).toBe(usual);
    expect(normalisedAuthorization('Bearer   abc  ')).toBe('Bearer abc');
  });

  it('counts every Authorization field of the raw headers', () => {
    expect(authorizationFields(['Host', 'x', 'Authorization', 'Bearer a'])).toBe(1);
    expect(authorizationFields(['authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b'])).toBe(2);
    expect(authorizationFields(['Host', 'x'])).toBe(0);
  });
});
