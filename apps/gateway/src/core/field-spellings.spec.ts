import { PortcullisError } from '@portcullis/contracts';
import { LOGIN_CLIENT_SPELLINGS, oneSpelling, REFRESH_CLIENT_SPELLINGS } from './field-spellings';

describe('oneSpelling', () => {
  it('passes a body in the payload spelling through as it is', () => {
    const body = { username: 'a', password: 'p', clientId: 'c', clientSecret: 's' };
    expect(oneSpelling(body, LOGIN_CLIENT_SPELLINGS)).toBe(body);
  });

  it('renames the other spelling to the payload one', () => {
    expect(
      oneSpelling({ username: 'a', password: 'p', client_id: 'c', client_secret: 's' }, LOGIN_CLIENT_SPELLINGS),
    ).toEqual({ username: 'a', password: 'p', clientId: 'c', clientSecret: 's' });
    expect(oneSpelling({ refresh_token: 'r', clientId: 'c', clientSecret: 's' }, REFRESH_CLIENT_SPELLINGS)).toEqual({
      refresh_token: 'r',
      client_id: 'c',
      client_secret: 's',
    });
  });

  it('takes both spellings when they agree', () => {
    expect(oneSpelling({ refresh_token: 'r', client_id: 'c', clientId: 'c' }, REFRESH_CLIENT_SPELLINGS)).toEqual({
      refresh_token: 'r',
      client_id: 'c',
    });
  });

  it('refuses both spellings with different values, naming both', () => {
    let thrown: unknown;
    try {
      oneSpelling({ refresh_token: 'r', client_id: 'a', clientId: 'b' }, REFRESH_CLIENT_SPELLINGS);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PortcullisError);
    expect((thrown as PortcullisError).code).toBe('BAD_REQUEST');
    expect((thrown as PortcullisError).details?.map((d) => d.field)).toEqual(['client_id', 'clientId']);
  });

  it('refuses a null in the other spelling, naming it as sent', () => {
    expect(() => oneSpelling({ refresh_token: 'r', clientId: null }, REFRESH_CLIENT_SPELLINGS)).toThrow(
      expect.objectContaining({ details: [expect.objectContaining({ field: 'clientId' })] }),
    );
  });
});
