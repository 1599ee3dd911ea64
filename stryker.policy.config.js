// The subgraphs' declared policies (`subgraphs/*/src/policy.ts`):
// `MUTATION_TESTS=subgraphs/<name>/src/policy.test.ts,subgraphs/<name>/src/policyDecisions.test.ts
// npx stryker run stryker.policy.config.js --mutate subgraphs/<name>/src/policy.ts --concurrency 1`.
// stryker.unit.config.js with static mutants run: a policy is declared at load time (its
// roles, scopes, audit kinds and messages are literals built once), so ignoring static
// mutants, as the other parts do, would leave almost all of it unmeasured. Each static
// mutant runs every test of the narrowed set. See README, "Mutation testing".
const unit = require('./stryker.unit.config.js');

module.exports = { ...unit, ignoreStatic: false };
