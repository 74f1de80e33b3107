import { AuthClient } from './auth-client';

describe('AuthClient.create', () => {
  // Refused before any connection is made (the URL below has nothing listening).
  it.each([301, 1000, -1, 1.5, Number.NaN])('refuses clockSkew %p', async (clockSkew) => {
    await expect(AuthClient.create({ mode: 'local', natsUrl: 'nats://127.0.0.1:1', clockSkew })).rejects.toThrow(
      /clockSkew must be a whole number of seconds from 0 to 300/,
    );
  });
});
