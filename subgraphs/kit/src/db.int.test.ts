/**
 * The database under load and under faults: instances starting together
 * migrate once (an advisory lock), the pool's waits are bounded, and a
 * database that goes away costs clean SERVICE_UNAVAILABLE answers, then
 * service resumes by itself. The shared PostgreSQL is never stopped: its
 * backends are terminated, or a fault proxy stands between it and the subgraph.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_DATABASE_POOL } from './config';
import { isDatabaseUnavailable, openDatabase, type PortalDataSource } from './db';
import type { SubgraphContext, SubgraphModule } from './subgraph';
import { dropTestDatabases, gql, removeTestDir, startFaultProxy, startTestSubgraph, testDatabaseUrl, testTempDir, uniqueDatabasePrefix, type GraphQLResponse } from './testing';
import { anyOf, careTeam, definePolicy, patientSelf, serviceScope } from './policy';

/** The test subgraph's declared policy: an appointment of the patient, as scheduling's is. */
const testPolicy = definePolicy({
  healthTypes: [],
  otherTypes: {},
  openFields: {},
  entries: { 'Query.rows': { allow: anyOf(patientSelf, careTeam, serviceScope('scheduling:read')), audit: { kind: 'appointment', action: 'read' } } },
});

const url = testDatabaseUrl();
const onPostgres = url ? describe : describe.skip;

/** Three migrations that fail if run twice (CREATE TABLE without IF NOT EXISTS), and count their runs. */
class LockOne1764000000001 implements MigrationInterface {
  name = 'LockOne1764000000001';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE lock_runs (name varchar(64) NOT NULL)');
    // Slow enough that instances starting together would overlap without the lock.
    await q.query('SELECT pg_sleep(0.2)');
    await q.query(`INSERT INTO lock_runs VALUES ('one')`);
  }
  async down() {}
}
class LockTwo1764000000002 implements MigrationInterface {
  name = 'LockTwo1764000000002';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE lock_two (id integer PRIMARY KEY)');
    await q.query('SELECT pg_sleep(0.2)');
    await q.query(`INSERT INTO lock_runs VALUES ('two')`);
  }
  async down() {}
}
class LockThree1764000000003 implements MigrationInterface {
  name = 'LockThree1764000000003';
  async up(q: QueryRunner) {
    await q.query('CREATE TABLE lock_three (id integer PRIMARY KEY)');
    await q.query(`INSERT INTO lock_runs VALUES ('three')`);
  }
  async down() {}
}
const ALL = [LockOne1764000000001, LockTwo1764000000002, LockThree1764000000003];

describe('isDatabaseUnavailable', () => {
  it('is true for a lost or refused connection, a server shutting down, a statement timeout, a busy SQLite', () => {
    const wrapped = (driverError: object) => Object.assign(new Error('query failed'), { driverError });
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      wrapped({ code: '57P01', message: 'terminating connection due to administrator command' }),
      wrapped({ code: '57014', message: 'canceling statement due to statement timeout' }),
      wrapped({ code: '08006' }),
      wrapped({ code: 'SQLITE_BUSY' }),
    ]) {
      expect([error.message, isDatabaseUnavailable(error)]).toEqual([error.message, true]);
    }
  });

  it('is false for a statement that is wrong, and for anything else', () => {
    const wrapped = (driverError: object) => Object.assign(new Error('query failed'), { driverError });
    for (const error of [wrapped({ code: '23505' }), wrapped({ code: '42P01' }), new TypeError('x is undefined'), 'text', undefined]) {
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
  });
});

onPostgres('migrations under an advisory lock', () => {
  let prefix: string;
  let dataDir: string;
  beforeEach(() => {
    prefix = uniqueDatabasePrefix();
    dataDir = testTempDir();
  });
  afterEach(async () => {
    await dropTestDatabases(prefix);
    removeTestDir(dataDir);
  });

  const open = (schema: string, migrations: Function[]) => openDatabase({ name: 'lock', schema, entities: [], migrations, dataDir, databaseUrl: url });
  async function ranIn(schema: string): Promise<{ migrations: string[]; runs: string[] }> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const migrations = (await c.query(`SELECT name FROM "${schema}".migrations ORDER BY name`)).rows.map((r) => r.name);
      const runs = (await c.query(`SELECT name FROM "${schema}".lock_runs ORDER BY name`)).rows.map((r) => r.name);
      return { migrations, runs };
    } finally {
      await c.end();
    }
  }
  const closeAll = (opened: PromiseSettledResult<PortalDataSource>[]) =>
    Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.dataSource.destroy() : undefined)));

  it('lets 4 instances start together on a new schema: all start, each migration runs once', async () => {
    const schema = `${prefix}_fresh`;
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => open(schema, ALL)));
    await closeAll(opened);
    expect(opened.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await ranIn(schema)).toEqual({
      migrations: ['LockOne1764000000001', 'LockThree1764000000003', 'LockTwo1764000000002'],
      runs: ['one', 'three', 'two'],
    });
  });

  it('lets 4 instances start together on an older schema: all start, each pending migration runs once', async () => {
    const schema = `${prefix}_older`;
    await (await open(schema, [LockOne1764000000001])).dataSource.destroy();
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => open(schema, ALL)));
    await closeAll(opened);
    expect(opened.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await ranIn(schema)).toEqual({
      migrations: ['LockOne1764000000001', 'LockThree1764000000003', 'LockTwo1764000000002'],
      runs: ['one', 'three', 'two'],
    });
  });

  it('names its connections, and bounds statements and idle transactions on them (not the migrations)', async () => {
    const schema = `${prefix}_pool`;
    const db = await openDatabase({ name: 'pool', schema, entities: [], migrations: ALL, dataDir, databaseUrl: url, pool: { max: 3, acquireTimeoutMs: 1_000, statementTimeoutMs: 100 } });
    try {
      // LockOne's and LockTwo's pg_sleep(0.2) ran to the end: the migrations are not bounded.
      const [settings] = await db.dataSource.query('SELECT current_setting($1) AS statement, current_setting($2) AS idle, current_setting($3) AS app', [
        'statement_timeout',
        'idle_in_transaction_session_timeout',
        'application_name',
      ]);
      expect(settings).toEqual({ statement: '100ms', idle: '100ms', app: `portal:${schema}` });
      const slow = await db.dataSource.query('SELECT pg_sleep(1)').catch((e: unknown) => e);
      expect(isDatabaseUnavailable(slow)).toBe(true);
      expect((await db.dataSource.query('SELECT 1 AS one'))[0].one).toBe(1);
    } finally {
      await db.dataSource.destroy();
    }
  });

  it('has sane defaults', () => {
    expect(DEFAULT_DATABASE_POOL).toEqual({ max: 10, acquireTimeoutMs: 3_000, statementTimeoutMs: 10_000 });
  });
});

/** A subgraph whose one field reads the database, as every real field does, and audits the read. */
function readingModule(): SubgraphModule<SubgraphContext> {
  return {
    name: 'reader',
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { rows(patientId: ID!, sleepMs: Int): Int }
    `),
    resolvers: {
      Query: {
        rows: async (_: unknown, { patientId, sleepMs }: { patientId: string; sleepMs?: number }, ctx: SubgraphContext) => {
          await testPolicy.assert('Query.rows', ctx.access, patientId);
          if (sleepMs) await ctx.db.query('SELECT pg_sleep($1)', [sleepMs / 1000]);
          const [{ n }] = await ctx.db.query('SELECT count(*) AS n FROM audit_event');
          return Number(n);
        },
      },
    },
    entities: [],
    migrations: [],
    createContext: (base) => base,
  };
}

/** A read answered in full, or refused cleanly: SERVICE_UNAVAILABLE and nothing of the failure (no SQL, no stack, no address). */
function expectFullOrUnavailable(res: GraphQLResponse): 'full' | 'unavailable' {
  if (!res.errors) {
    expect(typeof res.data?.rows).toBe('number');
    return 'full';
  }
  expect(res.errors.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(Object.keys(res.errors[0].extensions ?? {})).toEqual(['code']);
  expect(JSON.stringify(res)).not.toMatch(/SELECT|pg_|audit_event|127\.0\.0\.1|5432|\bat /);
  return 'unavailable';
}

/** Retries until the read is answered in full: recovery takes new connections, whose moment the test does not choose. */
async function eventuallyFull(read: () => Promise<GraphQLResponse>, tries = 60): Promise<GraphQLResponse> {
  for (let i = 1; ; i++) {
    const res = await read();
    if (!res.errors || i >= tries) return res;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

onPostgres('a subgraph whose database fails under it', () => {
  it('answers cleanly while its connections are terminated under load, and serves again with no restart', async () => {
    const subgraph = await startTestSubgraph(readingModule(), { configOverrides: { databasePool: { max: 4, acquireTimeoutMs: 2_000, statementTimeoutMs: 5_000 } } });
    const schema = (subgraph.server.database.dataSource.options as { schema: string }).schema;
    const jane = `pt-${randomUUID()}`;
    const token = await subgraph.token({ personId: jane });
    const read = (sleepMs = 0) => gql(subgraph.url, 'query ($id: ID!, $ms: Int) { rows(patientId: $id, sleepMs: $ms) }', { id: jane, ms: sleepMs }, token);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      expect(expectFullOrUnavailable(await read())).toBe('full');
      const inFlight = [1, 2, 3, 4, 5, 6].map(() => read(2_000));
      // Terminated once statements are running on them, whatever the machine's load.
      const sleeping = async () =>
        (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`, [`portal:${schema}`])).rows[0].n;
      for (let i = 0; i < 200 && (await sleeping()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const { rows } = await admin.query('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1', [`portal:${schema}`]);
      expect(rows.length).toBeGreaterThan(0);
      const outcomes = (await Promise.all(inFlight)).map(expectFullOrUnavailable);
      expect(outcomes).toContain('unavailable');
      // Idle connections were terminated too: the pool drops them (no crash) and opens new ones.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`portal:${schema}`]);
      const after = await eventuallyFull(() => read());
      expect(expectFullOrUnavailable(after)).toBe('full');
      for (let i = 0; i < 5; i++) expect(expectFullOrUnavailable(await read())).toBe('full');
      expect((await fetch(`${subgraph.server.url}/health/ready`)).status).toBe(200);
    } finally {
      await admin.end();
      await subgraph.stop();
    }
  });

  it.each([
    ['cut off (a stopped server)', 'cut'],
    ['hung (no answer at all)', 'hang'],
  ] as const)('answers SERVICE_UNAVAILABLE in bounded time while the database is %s, not ready meanwhile, and resumes with no restart', async (_, fault) => {
    const target = new URL(url!);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(url!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const subgraph = await startTestSubgraph(readingModule(), {
      configOverrides: { databaseUrl: viaProxy.toString(), databasePool: { max: 4, acquireTimeoutMs: 500, statementTimeoutMs: 500 } },
    });
    const jane = `pt-${randomUUID()}`;
    const token = await subgraph.token({ personId: jane });
    const read = () => gql(subgraph.url, 'query ($id: ID!) { rows(patientId: $id) }', { id: jane }, token);
    try {
      expect(expectFullOrUnavailable(await read())).toBe('full');
      proxy[fault]();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await read();
        expect([res.status, expectFullOrUnavailable(res)]).toEqual([503, 'unavailable']);
        // Bounded by the acquire and statement timeouts (500 ms here), with room for a loaded machine: never a hang.
        expect(Date.now() - started).toBeLessThan(15_000);
      }
      expect((await fetch(`${subgraph.server.url}/health/ready`)).status).toBe(503);
      expect((await fetch(`${subgraph.server.url}/health/live`)).status).toBe(200);
      proxy.restore();
      expect(expectFullOrUnavailable(await eventuallyFull(read))).toBe('full');
      for (let i = 0; i < 5; i++) expect(expectFullOrUnavailable(await read())).toBe('full');
      expect((await fetch(`${subgraph.server.url}/health/ready`)).status).toBe(200);
    } finally {
      proxy.restore();
      try {
        await subgraph.stop();
      } finally {
        await proxy.close();
      }
    }
  });
});
