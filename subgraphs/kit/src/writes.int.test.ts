import { openDatabase, type PortalDataSource } from './db';
import { removeTestDir, testConfig, uniqueDatabaseName } from './testing';
import { isUniqueViolation } from './writes';

// A real refusal from each database (this file runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL).
let db: PortalDataSource;
const config = testConfig();

beforeAll(async () => {
  db = await openDatabase({ name: 'kit', schema: uniqueDatabaseName('kit'), entities: [], migrations: [], dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await db.dataSource.query('CREATE TABLE booking (id varchar(10) PRIMARY KEY, slot varchar(10) NOT NULL, note varchar(10))');
  await db.dataSource.query('CREATE UNIQUE INDEX booking_slot_unique ON booking (slot)');
  await db.dataSource.query("INSERT INTO booking (id, slot) VALUES ('b1', 's1')");
});
afterAll(async () => {
  try {
    await db?.destroyAndDrop();
  } finally {
    removeTestDir(config.dataDir);
  }
});

const refusalOf = async (statement: string): Promise<unknown> => {
  try {
    await db.dataSource.query(statement);
  } catch (e) {
    return e;
  }
  throw new Error(`not refused: ${statement}`);
};

const SLOT = { name: 'booking_slot_unique', column: 'booking.slot' };
const OTHER = { name: 'booking_other_unique', column: 'booking.other' };

it('recognises a duplicate in a unique index, and tells which index refused', async () => {
  const e = await refusalOf("INSERT INTO booking (id, slot) VALUES ('b2', 's1')");
  expect(isUniqueViolation(e)).toBe(true);
  expect(isUniqueViolation(e, SLOT)).toBe(true);
  expect(isUniqueViolation(e, OTHER)).toBe(false);
});

it('recognises a duplicate primary key', async () => {
  const e = await refusalOf("INSERT INTO booking (id, slot) VALUES ('b1', 's2')");
  expect(isUniqueViolation(e)).toBe(true);
  expect(isUniqueViolation(e, SLOT)).toBe(false);
});

it('is false for other refusals and for errors that are not the database’s', async () => {
  expect(isUniqueViolation(await refusalOf("INSERT INTO booking (id, slot) VALUES ('b3', NULL)"))).toBe(false);
  expect(isUniqueViolation(await refusalOf('SELECT nope FROM booking'))).toBe(false);
  expect(isUniqueViolation(new Error('UNIQUE constraint failed: booking.slot'))).toBe(false);
  expect(isUniqueViolation(undefined)).toBe(false);
  expect(isUniqueViolation(null, SLOT)).toBe(false);
});
