import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { natsConnectionOptions } from '@portcullis/nats-options';
import { ConfiguredNats, describeNats, startConfiguredNats } from '../support/private-nats';
import { login, ManagedProcess, Stack, startExampleService, within } from '../support/stack';

/**
 * NATS over mutual TLS, for real: a private nats-server that requires TLS and a client certificate
 * signed by the test's CA. Every connection the apps open (auth-core's, its validate workers', the
 * gateway's, the SDK's in the example service) must present the files of NATS_TLS_CA,
 * NATS_TLS_CERT and NATS_TLS_KEY and check the server's certificate against that CA.
 */
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir });
  if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.toString()}`);
}

/**
 * A CA and, signed by it, a certificate for the server and one for the clients. The server's names
 * localhost too: nats.js checks an IP address URL's certificate against `localhost` (it sends no SNI
 * for an address), as Node's TLS does without a server name.
 */
function makeCertificates(dir: string, ca = 'ca'): void {
  openssl(dir, 'req', '-x509', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '1', '-subj', `/CN=${ca}`);
  const leaves = {
    server: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    client: 'extendedKeyUsage=clientAuth\n',
  };
  for (const [name, ext] of Object.entries(leaves)) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    const sign = ['-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1'];
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  }
}

describeNats('NATS over mutual TLS (NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY)', () => {
  const certs = mkdtempSync(join(tmpdir(), 'pcl-tls-'));
  const file = (name: string) => join(certs, name);
  const tlsEnv = { NATS_TLS_CA: file('ca.pem'), NATS_TLS_CERT: file('client.pem'), NATS_TLS_KEY: file('client.key') };
  const tls = { caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') };
  let nats: ConfiguredNats;
  let url: string;
  let stack: Stack;
  let svc: { proc: ManagedProcess; url: string } | undefined;

  beforeAll(async () => {
    makeCertificates(certs);
    nats = await startConfiguredNats(
      (_port, dir) => ({
        jetstream: { store_dir: join(dir, 'js') },
        tls: { cert_file: file('server.pem'), key_file: file('server.key'), ca_file: file('ca.pem'), verify: true },
      }),
      async (port) => (await connect({ servers: `tls://127.0.0.1:${port}`, tls, reconnect: false })).close(),
    );
    url = `tls://127.0.0.1:${nats.port}`;
    stack = new Stack({
      natsUrl: url,
      natsOptions: { tls },
      // Validate workers open connections of their own: they must do TLS with the same files.
      env: { ...tlsEnv, VERIFY_WORKERS: '2' },
      gatewayEnv: tlsEnv,
    });
    await stack.start();
    svc = await startExampleService(stack, 'local', tlsEnv);
  }, 90000);

  afterAll(async () => {
    await svc?.proc.stop();
    await stack?.stop();
    await nats?.dispose();
    rmSync(certs, { recursive: true, force: true });
  }, 60000);

  it('both apps, the validate workers and the SDK connect over TLS; tokens, validation and revocation work', async () => {
    const { access_token } = await login(stack);
    const bearer = { authorization: `Bearer ${access_token}` };
    const viaGateway = async () => (await fetch(`${stack.url}/api/v1/auth/validate`, { headers: bearer })).status;
    const viaSdk = async () => (await fetch(`${svc!.url}/widgets`, { headers: bearer })).status;
    expect(await viaGateway()).toBe(200);
    expect(await viaSdk()).toBe(200);
    // Answered on auth-core's TLS connections, the validate workers' among them.
    for (let i = 0; i < 6; i++)
      expect(await stack.natsRequest('auth.v1.token.validate', { token: access_token })).toMatchObject({ valid: true });

    const logout = await fetch(`${stack.url}/api/v1/auth/logout`, { method: 'POST', headers: bearer });
    expect(logout.status).toBe(204);
    // The revocation event reaches auth-core and the SDK's local validator over TLS, within SPEC §7's second.
    await within(1000, async () => (await viaGateway()) === 401 && (await viaSdk()) === 401);
    expect(await stack.natsRequest('auth.v1.token.validate', { token: access_token })).toMatchObject({ valid: false });

    expect(stack.replicas[0].logs()).toContain('auth=none, mutual TLS');
    expect(stack.gateway.logs()).toMatch(/connected to .* \(auth=none, mutual TLS\)/);
    expect(stack.logs()).toMatch(/token\.validate is served by 2 worker thread\(s\)/);
    expect(stack.logs()).not.toContain('cannot hear');
  });

  it('the server refuses a client without a certificate, and the apps refuse a server their CA did not sign', async () => {
    await expect(connect({ servers: url, tls: { caFile: tls.caFile }, reconnect: false })).rejects.toThrow();
    // The options every app connection is built from: another CA does not vouch for this server.
    const other = mkdtempSync(join(tmpdir(), 'pcl-tls-other-'));
    try {
      makeCertificates(other, 'other-ca');
      const opts = natsConnectionOptions(
        { NATS_URL: url, ...tlsEnv, NATS_TLS_CA: join(other, 'other-ca.pem') },
        'test',
      );
      await expect(connect({ ...opts, reconnect: false })).rejects.toThrow(/certificate/i);
      // The same options with the right CA connect: the refusal above is the CA's.
      const ok = await connect({ ...natsConnectionOptions({ NATS_URL: url, ...tlsEnv }, 'test'), reconnect: false });
      await ok.close();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
