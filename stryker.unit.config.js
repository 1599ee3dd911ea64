// `npx stryker run stryker.unit.config.js --mutate <file>[:<lines>] --concurrency 1`:
// stryker.config.json with the unit tests alone (jest.mutation.unit.config.js). Scores
// from it are lower bounds; see README, "Mutation testing".
const base = require('./stryker.config.json');

module.exports = { ...base, $schema: undefined, jest: { ...base.jest, configFile: 'jest.mutation.unit.config.js' } };
