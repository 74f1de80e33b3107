import { SUBJECTS } from '@portcullis/contracts';
import { clientCredentialsToken, seedClient, seedUser } from '../support/fixtures';
import { api } from '../support/fixtures';
import { login, Stack } from '../support/stack';

/**
 * SPEC §2: the role → permission map is configuration. ROLE_PERMISSIONS (the same value on both
 * apps) adds a role and widens `service`; auth-core's routes, its validate subject and the
 * gateway's own JWT validation all judge by it. The defaults are in the other suites.
 */
const ROLE_PERMISSIONS = JSON.stringify({
  auditor: ['audit:read', 'token:validate'],
  service: ['token:validate', 'tokens:read', 'tokens:write', 'clients:read'],
});

describe('a configured role map', () => {
  const stack = new Stack({ env: { ROLE_PERMISSIONS }, gatewayEnv: { ROLE_PERMISSIONS } });
  let admin: ReturnType<typeof api>;

  beforeAll(async () => {
    await stack.start();
    admin = api(stack, (await login(stack)).access_token);
  }, 90000);
  afterAll(() => stack.stop(), 60000);

  it('a new role grants what the map says, on the routes and in validation', async () => {
    const auditor = await seedUser(stack, 'auditor', 'auditor-password-1', ['auditor']);
    const token = (await auditor.login()).access_token;
    const asAuditor = api(stack, token);
    expect((await asAuditor.get('/api/v1/audit')).status).toBe(200);
    expect((await asAuditor.get('/api/v1/users')).status).toBe(403);
    expect((await asAuditor.get('/api/v1/tokens')).status).toBe(403);

    const overNats = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, {
      token,
      permissions: ['audit:read'],
    });
    expect(overNats.valid).toBe(true);
    const lacking = await stack.natsRequest<{ valid: boolean }>(SUBJECTS.TOKEN_VALIDATE, {
      token,
      permissions: ['users:read'],
    });
    expect(lacking.valid).toBe(false);
    const viaGateway = await fetch(`${stack.url}/api/v1/auth/validate?permissions=audit:read`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaGateway.status).toBe(200);
  });

  it('a role it widens gets the permission it lacks by default', async () => {
    await seedClient(stack, 'lister', ['service']);
    const secret = (await admin.patch('/api/v1/clients/lister', { rotateSecret: true })).body.client_secret;
    const asService = api(stack, await clientCredentialsToken(stack, 'lister', secret));
    expect((await asService.get('/api/v1/clients')).status).toBe(200);
  });
});
