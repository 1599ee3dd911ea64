import { openDatabase, type PortalDataSource } from './db';
import { execute, placeholders, sql } from './sql';
import { removeTestDir, testConfig, uniqueDatabaseName } from './testing';
import { AuditEventEntity, CreateAuditEvent1764000000000 } from './audit';

let db: PortalDataSource;
const config = testConfig();

beforeAll(async () => {
  db = await openDatabase({ name: 'kit', schema: uniqueDatabaseName('kit'), entities: [AuditEventEntity], migrations: [CreateAuditEvent1764000000000], dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await db.dataSource.query('CREATE TABLE kv (k varchar(10) PRIMARY KEY, n integer NOT NULL)');
});
afterAll(async () => {
  try {
    await db?.destroyAndDrop();
  } finally {
    removeTestDir(config.dataDir);
  }
});

it('binds $n placeholders on both databases, repeated and out of order', async () => {
  await sql(db.dataSource, 'INSERT INTO kv (k, n) VALUES ($2, $1), ($3, $1)', [7, 'a', 'b']);
  const rows = await sql<{ k: string; n: number }>(db.dataSource, `SELECT k, n FROM kv WHERE n = $1 AND k IN (${placeholders(2, 2)}) ORDER BY k`, [7, 'a', 'b']);
  expect(rows.map((r) => [r.k, Number(r.n)])).toEqual([['a', 7], ['b', 7]]);
  // The same text again (its SQLite form is remembered) binds the new values, not the first call's.
  await sql(db.dataSource, 'INSERT INTO kv (k, n) VALUES ($2, $1), ($3, $1)', [8, 'c', 'd']);
  const again = await sql<{ k: string; n: number }>(db.dataSource, `SELECT k, n FROM kv WHERE n = $1 AND k IN (${placeholders(2, 2)}) ORDER BY k`, [8, 'd', 'a']);
  expect(again.map((r) => [r.k, Number(r.n)])).toEqual([['d', 8]]);
});

it('reports affected rows, inside and outside a transaction', async () => {
  expect(await execute(db.dataSource, 'UPDATE kv SET n = n + 1 WHERE n = $1', [7])).toBe(2);
  expect(await execute(db.dataSource, 'UPDATE kv SET n = 0 WHERE k = $1', ['zzz'])).toBe(0);
  const affected = await db.dataSource.transaction((tx) => execute(tx, 'DELETE FROM kv WHERE k = $1', ['a']));
  expect(affected).toBe(1);
});

it('counts every statement, for the batching tests', async () => {
  db.counter.count = 0;
  await sql(db.dataSource, 'SELECT 1 AS one');
  await sql(db.dataSource, 'SELECT 2 AS two');
  expect(db.counter.count).toBe(2);
});

it('keeps the audit table append-only in the database', async () => {
  await db.dataSource.getRepository(AuditEventEntity).insert({
    id: 'e1', occurredAt: new Date().toISOString(), requestId: 'r', subgraph: 'kit', actorAccountId: 'a', actorPersonId: 'p', actorRole: 'PATIENT', patientId: 'p', recordKind: 'lab_result', action: 'read', outcome: 'ALLOWED',
  });
  await expect(db.dataSource.query(`UPDATE audit_event SET outcome = 'DENIED'`)).rejects.toThrow(/append-only/);
  await expect(db.dataSource.query('DELETE FROM audit_event')).rejects.toThrow(/append-only/);
});
