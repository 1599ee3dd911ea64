// The Jest run StrykerJS uses (`npm run test:mutation`, stryker.config.json): only
// the tests that cover the security-critical modules it mutates, on SQLite only.
// Not part of `npm test`; the full suite keeps using jest.config.js.
//
// Unit tests only (plus three files that start identity: its HTTP routes, its smart-card sign-in,
// its card issuer rules;
// the rate-limit tests also use the local Redis, TEST_REDIS_URL): a
// mutant is run against every test that covers it, and a test file that starts
// servers costs seconds per mutant. Identity's code imports @portal/kit through
// node_modules, which in Stryker's sandbox still points at the unmutated kit, so
// the kit's mutants are killed (or not) by the kit's own unit tests alone.
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
  // The workspaces' "main" is their built dist/ (production); tests run their TypeScript sources, through node_modules as before.
  moduleNameMapper: {
    '^@portal/([a-z-]+)$': '<rootDir>/node_modules/@portal/$1/src/index.ts',
    '^@portal/([a-z-]+)/(testing|tooling)$': '<rootDir>/node_modules/@portal/$1/src/$2.ts',
  },
  testMatch: [
    // Unit tests of the mutated modules, next to them.
    '<rootDir>/subgraphs/kit/src/auth/tokens.test.ts',
    '<rootDir>/subgraphs/kit/src/auth/sessions.test.ts',
    '<rootDir>/subgraphs/kit/src/access.test.ts',
    '<rootDir>/subgraphs/kit/src/policy.test.ts',
    '<rootDir>/subgraphs/kit/src/policyCoverage.test.ts',
    '<rootDir>/subgraphs/kit/src/rateLimit.test.ts',
    '<rootDir>/subgraphs/kit/src/audit.test.ts',
    '<rootDir>/subgraphs/identity/src/db/store.test.ts',
    '<rootDir>/subgraphs/identity/src/services/sessions.test.ts',
    '<rootDir>/subgraphs/identity/src/services/throttle.test.ts',
    '<rootDir>/subgraphs/identity/src/smartcard/certificate.test.ts',
    '<rootDir>/subgraphs/identity/src/smartcard/trust.test.ts',
    '<rootDir>/subgraphs/identity/src/smartcard/challenge.test.ts',
    '<rootDir>/subgraphs/identity/src/routes.test.ts',
    '<rootDir>/subgraphs/identity/src/services/proxyRules.test.ts',
    '<rootDir>/subgraphs/identity/src/services/smartCards.test.ts',
    // Each subgraph's declared policy, entry by entry (static mutants: stryker.policy.config.js).
    '<rootDir>/subgraphs/identity/src/policyDecisions.test.ts',
    '<rootDir>/subgraphs/scheduling/src/policyDecisions.test.ts',
    '<rootDir>/subgraphs/messaging/src/policyDecisions.test.ts',
    '<rootDir>/subgraphs/pharmacy/src/policyDecisions.test.ts',
    '<rootDir>/subgraphs/clinical-records/src/policyDecisions.test.ts',
    '<rootDir>/subgraphs/identity/src/routes.int.test.ts',
    // Main's end-to-end smart-card tests (challenge codec, sign-in): the unit file of SmartCardService was removed in the merge.
    '<rootDir>/subgraphs/identity/src/smartcard.int.test.ts',
    // The issuer rules, CA constraints and revocation of smartcard/certificate.ts are tested only there.
    '<rootDir>/subgraphs/identity/src/issuers.int.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  globals: { PORTAL_TEST_DB: 'sqlite' },
  testTimeout: 60_000,
};
