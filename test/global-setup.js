// Runs once before a Jest run, in the parent process: names the run, so that
// what its tests create can be found and removed afterwards whatever happened
// to them (see global-teardown.js). Workers inherit these variables.
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  const run = crypto.randomBytes(3).toString('hex');
  process.env.PORTAL_TEST_RUN = run;
  // Every temporary directory of the run lives in here (kit/src/testing.ts testTempDir).
  process.env.PORTAL_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), `portal-test-run-${run}-`));
  process.env.PORTAL_TEST_REDIS = await testRedis();
};

/**
 * The Redis of the tests that need one (kit/src/testing.ts testRedisUrl), or `none`.
 * TEST_REDIS_URL set (as .ci/run sets it): that one, unprobed, so in CI those tests
 * always run and fail if it is down. Unset: the local Redis when it answers PING
 * (PORTAL_TEST_REDIS_PROBE_URL, a test-only override, names another, e.g. a dead port to
 * see the skip on a machine that has Redis); otherwise `none`, and those tests are skipped
 * with a notice instead of failing.
 */
async function testRedis() {
  if (process.env.TEST_REDIS_URL) return process.env.TEST_REDIS_URL;
  const url = process.env.PORTAL_TEST_REDIS_PROBE_URL || 'redis://127.0.0.1:6379';
  process.env.PORTAL_TEST_REDIS_PROBED = url;
  if (await answersPing(new URL(url))) return url;
  console.warn(`\n[tests] TEST_REDIS_URL is unset and no Redis answers at ${url}: the tests that need Redis are skipped (each file says which). Set TEST_REDIS_URL to run them; .ci/run does.`);
  return 'none';
}

function answersPing(url) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    let answer = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH from a Redis that wants a password: either way a Redis answers.
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(/^(\+PONG|-NOAUTH)/.test(answer));
    });
  });
}
