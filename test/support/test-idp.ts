import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';

/**
 * A real OpenID Connect provider as far as Portcullis can tell: an HTTP server on a loopback
 * port serving discovery and a JWKS. Tests hold its private keys and sign ID tokens with them.
 */
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
export type SigningKey = { kid: string; alg: string; jwk: JWK; privateKey: PrivateKey };

export class TestIdp {
  readonly keys: SigningKey[] = [];
  published: JWK[] = [];
  requests: string[] = [];
  /** Set to answer the JWKS request some other way (garbage, a slow drip…). */
  jwksHandler?: (res: ServerResponse) => void;
  private server?: Server;

  constructor(
    readonly port: number,
    private readonly answer = true,
  ) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? '');
    if (!this.answer) return; // a hung IdP: accepts the connection, never answers
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration')
      return json(200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/jwks`,
        authorization_endpoint: `${this.issuer}/authorize`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    if (req.url === '/jwks') return this.jwksHandler ? this.jwksHandler(res) : json(200, { keys: this.published });
    json(404, { error: 'not_found' });
  }

  async newKey(alg = 'RS256', publish = true, kid = `k-${randomBytes(4).toString('hex')}`): Promise<SigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const key = { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
    this.keys.push(key);
    if (publish) this.published.push(key.jwk);
    return key;
  }

  idToken(key: SigningKey, claims: Record<string, unknown> = {}, opts: { expIn?: number; iat?: number } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ aud: 'portcullis-web', sub: 'alice-sub', email: 'alice@acme.example', ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : this.issuer)
      .setIssuedAt(opts.iat ?? now)
      .setExpirationTime((opts.iat ?? now) + (opts.expIn ?? 300))
      .sign(key.privateKey);
  }
}
