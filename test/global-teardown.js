// Runs once after a Jest run, in the parent process, passed or failed: removes
// what the run's tests left behind although each is meant to clean up after
// itself (a beforeAll that threw before handing over what it started, an
// afterAll that failed half-way): the run's temporary directories, its
// PostgreSQL schemas (t_<run>...) and its Redis keys (portal-test-<run>-...).
const fs = require('node:fs');

module.exports = async () => {
  const run = process.env.PORTAL_TEST_RUN;
  const tmp = process.env.PORTAL_TEST_TMP;
  if (!run) return;
  const left = [];
  if (tmp && fs.existsSync(tmp)) {
    const inside = fs.readdirSync(tmp);
    if (inside.length) left.push(`${inside.length} temporary director${inside.length === 1 ? 'y' : 'ies'} (${inside.slice(0, 10).join(', ')}${inside.length > 10 ? ', ...' : ''})`);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (process.env.TEST_DATABASE_URL) left.push(...(await dropSchemas(process.env.TEST_DATABASE_URL, run)));
  const redis = process.env.PORTAL_TEST_REDIS;
  if (redis !== 'none') left.push(...(await dropRedisKeys(redis || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379', run)));
  // Said, so that a test that does not clean up after itself gets noticed and fixed.
  if (left.length) console.warn(`\n[test clean-up] removed what tests of this run left behind: ${left.join(', ')}`);
};

async function dropSchemas(url, run) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [`t_${run}`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    return rows.length ? [`${rows.length} PostgreSQL schema${rows.length === 1 ? '' : 's'}`] : [];
  } catch (e) {
    console.warn(`[test clean-up] PostgreSQL schemas t_${run}* not checked: ${e.message}`);
    return [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropRedisKeys(url, run) {
  const IORedis = require('ioredis');
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `portal-test-${run}-*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) n += await redis.del(...keys);
    } while (cursor !== '0');
    return n ? [`${n} Redis key${n === 1 ? '' : 's'}`] : [];
  } catch {
    // No Redis on this machine: no test of this run could have written to it.
    return [];
  } finally {
    redis.disconnect();
  }
}
