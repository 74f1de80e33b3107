import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase } from '../../../../test/support/stack';
import { AuditService } from '../audit/audit.service';
import { ClientEntity } from '../clients/client.entity';
import { AuthCoreConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/migrate';
import { EventBusService } from '../events/event-bus.service';
import { KeyRingService } from '../keys/key-ring.service';
import { MasterKey } from '../keys/master-key';
import { NatsConnectionService } from '../nats/nats-connection.service';
import { AccessTokensRepository } from '../tokens/access-tokens.repository';
import { RefreshTokensRepository } from '../tokens/refresh-tokens.repository';
import { RevocationCacheService } from '../tokens/revocation-cache.service';
import { TokenIssuerService } from '../tokens/token-issuer.service';
import { TokenRecordWriter } from '../tokens/token-record.writer';
import { ClientAuthenticatorService } from './client-authenticator.service';
import { ClientCredentialsHandler } from './client-credentials.handler';

/**
 * The grant's own steps against a real PostgreSQL (the real group-commit writer, issuer and audit
 * rows); the client check and the signing key are stand-ins, so a key that cannot sign can be given.
 */
describe('ClientCredentialsHandler', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ds: DataSource;
  let signingKey: KeyObject;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const client = {
    clientId: 'svc',
    secretHash: Buffer.from('hash'),
    roles: ['service'],
    tenants: [],
    enabled: true,
    maxTokenLifetime: null,
  } as unknown as ClientEntity;
  const config = { ISSUER: 'http://issuer', AUDIENCE: 'portcullis', ACCESS_TOKEN_TTL: 300 } as AuthCoreConfig;
  const handler = () => {
    const keys = {
      activeKey: () => ({ alg: 'ES256', kid: 'k1', privateKey: signingKey }),
    } as unknown as KeyRingService;
    const authenticator = {
      authenticateRemembered: () => Promise.resolve(client),
      authenticate: () => Promise.resolve(client),
      forget: () => undefined,
    } as unknown as ClientAuthenticatorService;
    const bus = { notify: () => Promise.resolve() } as unknown as EventBusService;
    return new ClientCredentialsHandler(
      config,
      authenticator,
      new TokenIssuerService(
        config,
        keys,
        {} as MasterKey,
        new AccessTokensRepository(ds),
        new RefreshTokensRepository(ds, {} as MasterKey),
      ),
      new AuditService(ds, bus),
      new TokenRecordWriter(ds),
      {} as NatsConnectionService,
      {} as RevocationCacheService,
    );
  };
  const recorded = async () => {
    const [t] = (await ds.query(`SELECT count(*)::int AS n FROM access_tokens WHERE cid = 'svc'`)) as Array<{
      n: number;
    }>;
    const [a] = (await ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE subject = 'svc'`)) as Array<{
      n: number;
    }>;
    return { tokens: t.n, audits: a.n };
  };

  beforeAll(async () => {
    db = await createDatabase();
    await runMigrations(db.url);
    ds = await new DataSource(dataSourceOptions(db.url, 4)).initialize();
    // The token is recorded only while the client's row is the one it was built from.
    await ds.query(`INSERT INTO clients (client_id, secret_hash, roles) VALUES ('svc', $1, '{service}')`, [
      client.secretHash,
    ]);
  }, 60000);
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('answers a token only once its row and audit row are recorded', async () => {
    signingKey = privateKey;
    const reply = await handler().handle({ client_id: 'svc', client_secret: 'x' });
    expect(reply.access_token.split('.')).toHaveLength(3);
    expect(reply.roles).toEqual(['service']);
    expect(await recorded()).toEqual({ tokens: 1, audits: 1 });
  });

  it('a key that cannot sign fails the request and leaves no row behind', async () => {
    // A public key where the private one should be: node:crypto refuses to sign with it.
    signingKey = publicKey;
    const before = await recorded();
    await expect(handler().handle({ client_id: 'svc', client_secret: 'x' })).rejects.toThrow();
    expect(await recorded()).toEqual(before);
  });

  it('a client row that keeps changing under the request: UNAVAILABLE after three reads, nothing recorded', async () => {
    signingKey = privateKey;
    const before = await recorded();
    await ds.query(`UPDATE clients SET roles = '{service,extra}' WHERE client_id = 'svc'`);
    try {
      await expect(handler().handle({ client_id: 'svc', client_secret: 'x' })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      expect(await recorded()).toEqual(before);
    } finally {
      await ds.query(`UPDATE clients SET roles = '{service}' WHERE client_id = 'svc'`);
    }
  });
});
