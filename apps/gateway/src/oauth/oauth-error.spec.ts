import { ERROR_CODES, PortcullisError } from '@portcullis/contracts';
import { SERVER_ERROR_CODES, toOAuthError } from './oauth-error';

describe('toOAuthError', () => {
  // A code added to ERROR_CODES and forgotten in FROM_CODE would reach an OAuth client as a 500.
  it.each(ERROR_CODES)('%s is mapped, or listed as a server error on purpose', (code) => {
    const mapped = toOAuthError(new PortcullisError(code, 'why')).error !== 'server_error';
    expect({ code, mapped }).toEqual({ code, mapped: !SERVER_ERROR_CODES.includes(code) });
  });

  it('REFUSED reads like FORBIDDEN: invalid_scope, its message shown', () => {
    expect(toOAuthError(new PortcullisError('REFUSED', 'Client svc is disabled'))).toMatchObject({
      error: 'invalid_scope',
      description: 'Client svc is disabled',
      status: 400,
    });
  });
});
