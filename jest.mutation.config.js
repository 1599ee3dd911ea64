// The Jest run StrykerJS uses (`npm run test:mutation`, stryker.config.json): only
// the tests that cover the security-critical modules it mutates, on SQLite only.
// Not part of `npm test`; the full suite keeps using jest.config.js.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  testMatch: [
    // Unit tests of the mutated modules, next to them.
    '<rootDir>/subgraphs/kit/src/auth/tokens.test.ts',
    '<rootDir>/subgraphs/kit/src/auth/sessions.test.ts',
    '<rootDir>/subgraphs/kit/src/access.test.ts',
    '<rootDir>/subgraphs/kit/src/audit.test.ts',
    '<rootDir>/subgraphs/identity/src/db/store.test.ts',
    '<rootDir>/subgraphs/identity/src/services/sessions.test.ts',
    '<rootDir>/subgraphs/identity/src/services/throttle.test.ts',
    '<rootDir>/subgraphs/identity/src/smartcard/certificate.test.ts',
    '<rootDir>/subgraphs/identity/src/smartcard/trust.test.ts',
    '<rootDir>/subgraphs/identity/src/routes.int.test.ts',
    // Identity's own integration tests of smart-card sign-in, PIV registration and lock-outs.
    '<rootDir>/subgraphs/identity/src/smartcard.int.test.ts',
    '<rootDir>/subgraphs/identity/src/accounts.int.test.ts',
    '<rootDir>/subgraphs/identity/src/identity.int.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Stryker runs in a copy of the repository (.stryker-tmp) with node_modules linked
  // from here, whose @portal/kit link points back at the unmutated kit: resolve the
  // kit inside the copy, so identity's code runs the mutated kit too.
  moduleNameMapper: {
    '^@portal/kit$': '<rootDir>/subgraphs/kit/src/index.ts',
    '^@portal/kit/(.*)$': '<rootDir>/subgraphs/kit/$1',
  },
  globals: { PORTAL_TEST_DB: 'sqlite' },
  testTimeout: 60_000,
};
