// The mutation Jest run without the tests that start identity (`*.int.test.ts`): each of
// those costs tens of seconds per mutant on a loaded machine. Used by
// `stryker.unit.config.js`; a score measured with it is a lower bound (a mutant the
// integration tests would kill may count as survived here).
const base = require('./jest.mutation.config.js');

module.exports = { ...base, testMatch: base.testMatch.filter((p) => !p.endsWith('.int.test.ts')) };
