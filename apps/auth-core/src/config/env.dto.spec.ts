import { loadAuthCoreConfig } from './config';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portcullis',
  MASTER_KEY: 'k'.repeat(40),
};

describe('auth-core configuration', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('MIGRATE_ON_START=%j is %j', (value, expected) => {
    expect(loadAuthCoreConfig({ ...base, MIGRATE_ON_START: value }).MIGRATE_ON_START).toBe(expected);
  });

  // Each read as false before: a typo silently left the schema unmigrated.
  it.each(['yes', 'on', 'ture', 'TRUE '])('refuses MIGRATE_ON_START=%j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, MIGRATE_ON_START: value })).toThrow(
      /MIGRATE_ON_START: MIGRATE_ON_START must be true or false/,
    );
  });
});
