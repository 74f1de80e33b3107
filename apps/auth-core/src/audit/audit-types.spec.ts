import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = join(__dirname, '..');
const README = join(__dirname, '../../../../README.md');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('audit event types', () => {
  it('are all named in README, where a reader of GET /audit?type= or the audit events learns them', () => {
    // README pointed at libs/contracts/src/events.ts for the types, which has none (`type: string`).
    const types = new Set(
      sources(SRC).flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => /\btype: /.test(line))
          .flatMap((line) => [...line.matchAll(/'([a-z]+(?:\.[a-z_]+)+)'/g)].map((m) => m[1])),
      ),
    );
    expect(types.size).toBeGreaterThan(20);
    const readme = readFileSync(README, 'utf8');
    expect([...types].filter((t) => !readme.includes(`\`${t}\``)).sort()).toEqual([]);
  });
});
