// The mutation Jest run without the tests that start identity (`*.int.test.ts`): each of
// those costs tens of seconds per mutant on a loaded machine. Used by
// `stryker.unit.config.js`; a score measured with it is a lower bound (a mutant the
// integration tests would kill may count as survived here).
//
// MUTATION_TESTS (optional, comma-separated paths from the repository root) narrows the run
// to those test files: Stryker's related-test lookup otherwise loads every identity unit test
// for a change in identity's service code (they all open identity's database through
// module.ts), which costs seconds per mutant without killing anything more.
const base = require('./jest.mutation.config.js');

const only = (process.env.MUTATION_TESTS ?? '')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean)
  .map((p) => `<rootDir>/${p}`);

module.exports = {
  ...base,
  testMatch: only.length ? only : base.testMatch.filter((p) => !p.endsWith('.int.test.ts')),
};
