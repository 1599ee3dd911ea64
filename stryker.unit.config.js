// `npx stryker run stryker.unit.config.js --mutate <file>[:<lines>] --concurrency 1`:
// stryker.config.json with the unit tests alone (jest.mutation.unit.config.js). Scores
// from it are lower bounds; see README, "Mutation testing".
//
// MUTATION_REPORT (optional, a name) gives a part its own report
// (`reports/mutation/<name>.json` and `.html`) and sandbox (`.stryker-tmp-<name>`), so two
// parts can run at once without overwriting each other.
const base = require('./stryker.config.json');

const name = (process.env.MUTATION_REPORT ?? '').trim();
const own = name
  ? {
      htmlReporter: { fileName: `reports/mutation/${name}.html` },
      jsonReporter: { fileName: `reports/mutation/${name}.json` },
      tempDirName: `.stryker-tmp-${name}`,
    }
  : {};

module.exports = { ...base, $schema: undefined, jest: { ...base.jest, configFile: 'jest.mutation.unit.config.js' }, ...own };
