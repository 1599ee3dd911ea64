// Runs once before a Jest run, in the parent process: names the run, so that
// what its tests create can be found and removed afterwards whatever happened
// to them (see global-teardown.js). Workers inherit these variables.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  const run = crypto.randomBytes(3).toString('hex');
  process.env.PORTAL_TEST_RUN = run;
  // Every temporary directory of the run lives in here (kit/src/testing.ts testTempDir).
  process.env.PORTAL_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), `portal-test-run-${run}-`));
};
