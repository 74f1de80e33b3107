import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version in the project's package.json, found from `from` upwards. The apps run as
 * `node dist/…` (the image, k8s, the tests), where npm's `npm_package_version` is not set, so it
 * cannot be the source: every build would then report whatever default was written here.
 */
export function serviceVersion(from: string = __dirname, name = 'portcullis'): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here, or not one that parses: look further up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
