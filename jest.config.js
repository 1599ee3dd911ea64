// One Jest run covers every workspace. Database tests run once on SQLite and,
// when TEST_DATABASE_URL is set, once more on PostgreSQL (a second project).
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  testMatch: ['<rootDir>/{gateway,subgraphs,server,test,scripts}/**/*.test.ts'],
  // The workspaces' "main" is their built dist/ (production); tests run their TypeScript sources.
  moduleNameMapper: {
    '^@portal/([a-z-]+)$': '<rootDir>/node_modules/@portal/$1/src/index.ts',
    '^@portal/([a-z-]+)/(testing|tooling)$': '<rootDir>/node_modules/@portal/$1/src/$2.ts',
  },
  testPathIgnorePatterns: ['/node_modules/'],
  // StrykerJS's copy of the repository while `npm run test:mutation` runs.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

const projects = [{ ...base, displayName: 'sqlite', globals: { PORTAL_TEST_DB: 'sqlite' } }];
if (process.env.TEST_DATABASE_URL) {
  projects.push({ ...base, displayName: 'postgres', globals: { PORTAL_TEST_DB: 'postgres' } });
}

// The run's name, and a sweep after it of whatever its tests left (test/global-teardown.js).
// Two worker processes, even on a 2-core machine (Jest's default there is one, which runs every
// file inside its own process: a full run then outgrew the heap). A worker that holds more than
// 1.5 GB after a file is replaced by a fresh one.
module.exports = {
  projects,
  maxWorkers: 2,
  workerIdleMemoryLimit: '1.5GB',
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
};
