/**
 * The peer: panva's oidc-provider on a loopback port with its built-in in-memory adapter (no
 * database: issued tokens live in an LRU in this process), configured for client_credentials
 * and token introspection, with one confidential client (client_secret_basic).
 * argv: port, client id, client secret.
 */
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
  scopes: ['api'],
  ttl: { ClientCredentials: 600 },
});
provider.proxy = false;
// No per-request logging: oidc-provider is quiet unless its events are listened to.
const server = provider.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
