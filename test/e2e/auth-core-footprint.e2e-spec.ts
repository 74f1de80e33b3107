import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AUTH_CORE_MAIN } from '../support/stack';

/**
 * What auth-core's module graph loads, from the build. Every module stays in a replica's memory for
 * its whole life; auth-core serves NATS and a health port, and publishes no OpenAPI document.
 */
describe("auth-core's footprint", () => {
  it('loads no @nestjs/swagger (terminus documents a health check with it when it can find it)', () => {
    // Each package asked for by name, as the build's modules and their dependencies ask for it.
    const hook = `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request) {
        if (/^@nestjs\\/swagger(\\/|$)|^js-yaml$/.test(request)) process.stdout.write('LOADED ' + request + '\\n');
        return load.apply(this, arguments);
      };`;
    const appModule = join(AUTH_CORE_MAIN, '..', 'app.module.js');
    const r = spawnSync(
      process.execPath,
      ['-e', `${hook}\nrequire(${JSON.stringify(appModule)}); console.log('loaded')`],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' },
        timeout: 30000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['loaded']);
  });
});
