import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { NatsEnvDto } from './nats-env.dto';
import { describeNatsAuth, natsConnectionOptions, natsServersForLog, natsSettings } from './nats-options';

const dir = mkdtempSync(join(tmpdir(), 'nats-options-'));
const file = (name: string, content = 'x') => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

function credsFile(name: string, jwt: string, seed: Uint8Array): string {
  return file(
    name,
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(seed)}\n------END USER NKEY SEED------\n`,
  );
}

/** The messages class-validator reports for this environment, keyed by variable. */
function problems(env: Record<string, string>): Record<string, string> {
  const dto = plainToInstance(NatsEnvDto, env);
  return Object.fromEntries(
    validateSync(dto, { whitelist: true }).map((e) => [e.property, Object.values(e.constraints ?? {}).join('; ')]),
  );
}

describe('natsConnectionOptions', () => {
  it('splits a cluster URL list and names the connection', () => {
    const o = natsConnectionOptions({ NATS_URL: 'nats://a:4222, nats://b:4222,nats://c:4222' }, 'gateway');
    expect(o.servers).toEqual(['nats://a:4222', 'nats://b:4222', 'nats://c:4222']);
    expect(o.name).toBe('gateway');
    expect(o).not.toHaveProperty('user');
    expect(o).not.toHaveProperty('token');
    expect(o).not.toHaveProperty('authenticator');
    expect(o).not.toHaveProperty('tls');
    expect(describeNatsAuth(o)).toBe('auth=none, no TLS');
  });

  it('passes user and password', () => {
    const o = natsConnectionOptions({ NATS_URL: 'nats://n:4222', NATS_USER: 'core', NATS_PASSWORD: 's3cret' }, 'x');
    expect(o).toMatchObject({ user: 'core', pass: 's3cret' });
    expect(describeNatsAuth(o)).toBe('auth=user/password, no TLS');
    expect(describeNatsAuth(o)).not.toContain('s3cret');
  });

  it('masks the user and password a NATS_URL may carry, for the logs', () => {
    expect(natsServersForLog('nats://core:s3cret@n1:4222,tls://tok@n2:4222,nats://n3:4222')).toBe(
      'nats://***@n1:4222,tls://***@n2:4222,nats://n3:4222',
    );
  });

  it('passes a token', () => {
    const o = natsConnectionOptions({ NATS_URL: 'nats://n:4222', NATS_TOKEN: 'tok-123' }, 'x');
    expect(o.token).toBe('tok-123');
    expect(describeNatsAuth(o)).toBe('auth=token, no TLS');
  });

  it('signs with the creds file, re-reading it at every connect so a rotated secret is used', () => {
    const user = nkeys.createUser();
    const path = credsFile('user.creds', 'eyJ0eXAiOiJKV1QifQ.first.sig', user.getSeed());
    const o = natsConnectionOptions({ NATS_URL: 'nats://n:4222', NATS_CREDS: path }, 'x');
    const auth = o.authenticator as (nonce?: string) => { jwt?: string; nkey?: string; sig?: string };
    const first = auth('nonce-1');
    expect(first.jwt).toBe('eyJ0eXAiOiJKV1QifQ.first.sig');
    expect(first.nkey).toBe(user.getPublicKey());
    // The signature is the user's: the server verifies it against the public key in the JWT.
    const sig = Buffer.from(first.sig as string, 'base64url');
    expect(user.verify(new TextEncoder().encode('nonce-1'), sig)).toBe(true);

    const rotated = nkeys.createUser();
    credsFile('user.creds', 'eyJ0eXAiOiJKV1QifQ.second.sig', rotated.getSeed());
    const second = auth('nonce-2');
    expect(second.jwt).toBe('eyJ0eXAiOiJKV1QifQ.second.sig');
    expect(second.nkey).toBe(rotated.getPublicKey());
    expect(describeNatsAuth(o)).toBe('auth=creds, no TLS');
  });

  it('turns TLS on with the CA, and mutual TLS with a client certificate', () => {
    const ca = natsConnectionOptions({ NATS_URL: 'nats://n:4222', NATS_TLS_CA: '/etc/nats/ca.crt' }, 'x');
    expect(ca.tls).toEqual({ caFile: '/etc/nats/ca.crt' });
    expect(describeNatsAuth(ca)).toBe('auth=none, TLS');
    const mtls = natsConnectionOptions(
      { NATS_URL: 'nats://n:4222', NATS_TLS_CA: '/ca', NATS_TLS_CERT: '/crt', NATS_TLS_KEY: '/key' },
      'x',
    );
    expect(mtls.tls).toEqual({ caFile: '/ca', certFile: '/crt', keyFile: '/key' });
    expect(describeNatsAuth(mtls)).toBe('auth=none, mutual TLS');
  });

  it('requires TLS for tls:// servers even without files (system CAs)', () => {
    const o = natsConnectionOptions({ NATS_URL: 'tls://n1:4222,tls://n2:4222' }, 'x');
    expect(o.tls).toEqual({});
  });
});

describe('NatsEnvDto', () => {
  it('accepts no NATS auth at all (development)', () => {
    expect(problems({})).toEqual({});
  });

  it('accepts each way of authenticating on its own', () => {
    const user = nkeys.createUser();
    expect(problems({ NATS_USER: 'u', NATS_PASSWORD: 'p' })).toEqual({});
    expect(problems({ NATS_TOKEN: 't' })).toEqual({});
    expect(problems({ NATS_CREDS: credsFile('ok.creds', 'a.b.c', user.getSeed()) })).toEqual({});
  });

  it('needs user and password together', () => {
    expect(problems({ NATS_USER: 'u' })).toEqual({ NATS_PASSWORD: expect.stringContaining('NATS_USER') });
    expect(problems({ NATS_PASSWORD: 'p' })).toEqual({ NATS_USER: expect.stringContaining('NATS_PASSWORD') });
  });

  it('refuses two identities at once', () => {
    expect(problems({ NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't' })).toEqual({
      NATS_USER: expect.stringContaining('cannot be combined'),
      NATS_TOKEN: expect.stringContaining('cannot be combined'),
    });
    const creds = file('c.creds');
    expect(Object.keys(problems({ NATS_TOKEN: 't', NATS_CREDS: creds })).sort()).toEqual(['NATS_CREDS', 'NATS_TOKEN']);
  });

  it('names a TLS or creds file that cannot be read', () => {
    const missing = join(dir, 'missing.pem');
    expect(problems({ NATS_TLS_CA: missing })).toEqual({ NATS_TLS_CA: expect.stringContaining(missing) });
    expect(problems({ NATS_CREDS: dir })).toEqual({ NATS_CREDS: expect.stringContaining('readable file') });
  });

  it('needs a client certificate and its key together', () => {
    expect(problems({ NATS_TLS_CERT: file('c.pem') })).toEqual({
      NATS_TLS_KEY: 'NATS_TLS_KEY is required together with NATS_TLS_CERT',
    });
    expect(
      problems({ NATS_TLS_CERT: file('c.pem'), NATS_TLS_KEY: file('k.pem'), NATS_TLS_CA: file('ca.pem') }),
    ).toEqual({});
  });
});

describe('natsSettings', () => {
  it('keeps exactly the NATS settings of a config (plain data a worker thread can take)', () => {
    const config = { NATS_URL: 'nats://a:4222', NATS_USER: 'u', NATS_PASSWORD: 'p', MASTER_KEY: 'secret', PORT: 3000 };
    const picked = natsSettings(config);
    expect(picked).toMatchObject({ NATS_URL: 'nats://a:4222', NATS_USER: 'u', NATS_PASSWORD: 'p' });
    expect(picked).not.toHaveProperty('MASTER_KEY');
    expect(natsConnectionOptions(structuredClone(picked), 'x')).toMatchObject({ user: 'u', pass: 'p' });
  });
});
