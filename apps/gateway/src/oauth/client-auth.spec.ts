import { readClientAuth, readOptionalClientAuth, usesPost } from './client-auth';
import { InvalidClient, InvalidRequest } from './oauth-error';

const basic = (raw: string) => `Basic ${Buffer.from(raw).toString('base64')}`;

describe('client authentication (RFC 6749 §2.3)', () => {
  it('form-urlencoded-decodes Basic credentials: a `:` or `%` in a secret, a `+` for a space', () => {
    expect(readClientAuth(basic('ns%3Asvc:a%3Ab%25c+d'), {})).toEqual({
      client_id: 'ns:svc',
      client_secret: 'a:b%c d',
      method: 'client_secret_basic',
    });
    // The first colon separates: an id never holds a raw one.
    expect(readClientAuth(basic('svc:s:e:c'), {}).client_secret).toBe('s:e:c');
    // More than one space after the scheme, any case (RFC 9110 §11.4).
    expect(readClientAuth(`bAsIc   ${Buffer.from('svc:x').toString('base64')}`, {}).client_id).toBe('svc');
  });

  it('refuses Basic credentials it cannot read as invalid_client', () => {
    for (const header of [
      'Basic !!!',
      'Basic',
      'Basic ',
      basic('no-colon'),
      basic(':secret'),
      basic('svc:'),
      basic('svc:%zz'),
    ])
      expect(() => readClientAuth(header, {})).toThrow(InvalidClient);
  });

  it('refuses two methods in one request, even when the Basic header is malformed', () => {
    for (const header of [basic('svc:x'), 'Basic !!!', 'Basic'])
      expect(() => readClientAuth(header, { client_id: 'svc', client_secret: 'x' })).toThrow(InvalidRequest);
    expect(() => readOptionalClientAuth('Basic !!!', { client_id: 'svc', client_secret: 'x' })).toThrow(InvalidRequest);
    expect(() => readClientAuth(basic('svc:x'), { client_id: 'other' })).toThrow(InvalidRequest);
    expect(readClientAuth(basic('svc:x'), { client_id: 'svc' }).method).toBe('client_secret_basic');
  });

  it('reads client_secret_post, and says when no credentials came at all', () => {
    expect(readClientAuth(undefined, { client_id: 'svc', client_secret: 'x' }).method).toBe('client_secret_post');
    expect(readClientAuth('Bearer abc', { client_id: 'svc', client_secret: 'x' }).method).toBe('client_secret_post');
    expect(() => readClientAuth(undefined, { client_id: 'svc' })).toThrow('Client authentication is required');
    expect(() => readClientAuth(undefined, {})).toThrow('Client authentication is required');
  });

  it('leaves a public client (a bare client_id) alone where authentication is optional', () => {
    expect(readOptionalClientAuth(undefined, { client_id: 'svc' })).toEqual({ client_id: 'svc' });
    expect(readOptionalClientAuth(undefined, {})).toBeUndefined();
    expect(() => readOptionalClientAuth('Basic', { client_id: 'svc' })).toThrow(InvalidClient);
  });

  it('tells client_secret_post (whose failure gets no challenge) from Basic and from no credentials', () => {
    expect(usesPost(undefined, { client_id: 'svc', client_secret: 'x' })).toBe(true);
    expect(usesPost('Basic abc', { client_secret: 'x' })).toBe(false);
    expect(usesPost(undefined, { client_id: 'svc' })).toBe(false);
    expect(usesPost(undefined, { client_secret: '' })).toBe(false);
    expect(usesPost(undefined, undefined)).toBe(false);
  });
});
