import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort, within } from './stack';

export const NATS_SERVER = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
export const hasNatsServer = spawnSync(NATS_SERVER, ['--version']).status === 0;
if (!hasNatsServer && process.env.CI) throw new Error('nats-server not found: .ci/run installs it');
/** `describe`, or `describe.skip` on a machine without nats-server (never in CI). */
export const describeNats = hasNatsServer ? describe : describe.skip;

export interface ConfiguredNats {
  port: number;
  /** Scratch directory of this server (JetStream store, configuration, whatever the test puts there). */
  dir: string;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port and store, with the configuration given now. */
  restart(config: Record<string, unknown>): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * A nats-server of the test's own, run from a configuration file (nats-server reads JSON as its
 * configuration): for what the shared server cannot show, such as authentication or TLS.
 * `configure` gets the port and the scratch directory; `reachable(port)` must resolve once the
 * server takes connections the way the test means to connect (it is polled until it does).
 */
export async function startConfiguredNats(
  configure: (port: number, dir: string) => Record<string, unknown> | Promise<Record<string, unknown>>,
  reachable: (port: number) => Promise<unknown>,
): Promise<ConfiguredNats> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pcl-nats-'));
  let proc: ChildProcess | undefined;
  const launch = async (config: Record<string, unknown>) => {
    writeFileSync(join(dir, 'nats.conf'), JSON.stringify({ host: '127.0.0.1', port, ...config }, null, 2));
    const started = spawn(NATS_SERVER, ['-c', join(dir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = started;
    let said = '';
    started.stderr!.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-4000)));
    await within(10000, async () => {
      if (started.exitCode !== null) throw new Error(`nats-server exited with ${started.exitCode}:\n${said}`);
      try {
        await reachable(port);
        return true;
      } catch {
        return false;
      }
    });
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  try {
    await launch(await configure(port, dir));
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    stop,
    restart: async (config) => {
      await stop();
      try {
        await launch(config);
      } catch (err) {
        await stop();
        throw err;
      }
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A plain private nats-server (JetStream on, no auth) that a test may stop and start again on the
 * same port and store: for NATS outages, which the shared server must not suffer.
 */
export async function startPrivateNats(): Promise<{
  url: string;
  stop: () => Promise<void>;
  restart: () => Promise<void>;
  dispose: () => Promise<void>;
}> {
  const config = (dir: string) => ({ jetstream: { store_dir: join(dir, 'js') } });
  const nats = await startConfiguredNats(
    (_port, dir) => config(dir),
    async (port) => (await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false })).close(),
  );
  return {
    url: `nats://127.0.0.1:${nats.port}`,
    stop: nats.stop,
    restart: () => nats.restart(config(nats.dir)),
    dispose: nats.dispose,
  };
}
