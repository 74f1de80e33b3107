import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceVersion } from './service-version';

describe('serviceVersion', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'pcl-version-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("reads the project's package.json from a build directory far below it, skipping other packages", () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'portcullis', version: '9.8.7' }));
    const deep = join(root, 'dist/apps/gateway/libs/observability/src');
    mkdirSync(deep, { recursive: true });
    // A package.json of another name on the way (a nested package) is not ours.
    writeFileSync(join(root, 'dist/apps/package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    writeFileSync(join(root, 'dist/apps/gateway/package.json'), '{ not json');
    expect(serviceVersion(deep)).toBe('9.8.7');
  });

  it('answers unknown when there is none, rather than a made-up version', () => {
    expect(serviceVersion(root, 'no-such-package-name')).toBe('unknown');
  });

  it("is this repository's version from the source tree", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(serviceVersion(__dirname)).toBe((require('../../../package.json') as { version: string }).version);
  });
});
