import type { CoreClientService } from '../core/core-client.service';
import { OidcController } from './oidc.controller';

describe('OidcController config', () => {
  it('passes on no role mapping, even from an auth-core that still sends one (rolling upgrade)', async () => {
    const older = [
      {
        name: 'acme',
        baseUrl: 'https://idp.example/authorize',
        clientId: 'web',
        issuer: 'https://idp.example',
        audience: 'web',
        mapRoles: { 'platform-admins': ['admin'] },
      },
    ];
    const core = { request: jest.fn().mockResolvedValue(older) } as unknown as CoreClientService;
    expect(await new OidcController(core).config('rid')).toEqual([
      {
        name: 'acme',
        baseUrl: 'https://idp.example/authorize',
        clientId: 'web',
        issuer: 'https://idp.example',
        audience: 'web',
      },
    ]);
  });
});
