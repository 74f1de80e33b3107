// Nest 12, jose and nats.js ship ESM only; @swc/jest turns them (and our TypeScript) into CJS.
const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
const shared = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|jose|@nats-io|openid-client|oauth4webapi)/)'],
  moduleNameMapper: { '^@portcullis/([a-z-]+)(|/.*)$': '<rootDir>/libs/$1/src$2' },
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/test/infra/**/*.spec.ts'] },
    // End-to-end suites start real auth-core and gateway processes against PostgreSQL and NATS.
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/{e2e,security,resilience}/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/bench-smoke'],
      slowTestThreshold: 30,
    },
    // The benchmark's smoke run loads both cores for a minute: `npm test` runs it after the other
    // suites, not beside timing-sensitive ones (a replica starved of its readiness checks failed CI).
    { ...shared, displayName: 'bench', testMatch: ['<rootDir>/test/e2e/bench-smoke.e2e-spec.ts'] },
  ],
  testTimeout: 60000,
  maxWorkers: 2,
  // test/REPORT.md is regenerated from what the security and resilience suites record.
  reporters: ['default', '<rootDir>/test/support/report-reporter.js'],
};
