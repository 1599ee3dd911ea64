import { EntitySchema, In, LessThan, Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { openDatabase, type PortalDataSource } from './db';
import { selectRows } from './rows';
import { removeTestDir, testConfig, uniqueDatabaseName } from './testing';

interface ThingRow {
  id: string;
  ownerId: string;
  done: boolean;
  rank: number;
  note: string | null;
}

const ThingEntity = new EntitySchema<ThingRow>({
  name: 'Thing',
  tableName: 'thing',
  columns: {
    id: { type: 'varchar', length: 16, primary: true },
    ownerId: { name: 'owner_id', type: 'varchar', length: 16 },
    done: { type: 'boolean' },
    rank: { type: 'integer' },
    note: { type: 'varchar', length: 64, nullable: true },
  },
});

class CreateThing1764000000001 implements MigrationInterface {
  name = 'CreateThing1764000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'thing',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'owner_id', type: 'varchar', length: '16' },
          { name: 'done', type: 'boolean' },
          { name: 'rank', type: 'integer' },
          { name: 'note', type: 'varchar', length: '64', isNullable: true },
        ],
      }),
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('thing');
  }
}

let db: PortalDataSource;
const config = testConfig();

beforeAll(async () => {
  db = await openDatabase({ name: 'rows', schema: uniqueDatabaseName('rows'), entities: [ThingEntity], migrations: [CreateThing1764000000001], dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await db.dataSource.getRepository(ThingEntity).insert([
    { id: 't1', ownerId: 'a', done: true, rank: 3, note: 'x' },
    { id: 't2', ownerId: 'a', done: false, rank: 1, note: null },
    { id: 't3', ownerId: 'b', done: true, rank: 2, note: "it's" },
    { id: 't4', ownerId: 'c', done: false, rank: 5, note: null },
  ]);
});
afterAll(async () => {
  try {
    await db?.destroyAndDrop();
  } finally {
    removeTestDir(config.dataDir);
  }
});

it('reads the same rows, hydrated and ordered, as TypeORM’s find', async () => {
  const repo = db.dataSource.getRepository(ThingEntity);
  const mine = await selectRows(db.dataSource, ThingEntity, { in: ['ownerId', ['a', 'b']] }, [['rank', 'DESC'], ['id', 'ASC']]);
  expect(mine).toEqual(await repo.find({ where: { ownerId: In(['a', 'b']) }, order: { rank: 'DESC', id: 'ASC' } }));
  expect(mine.map((r) => r.done)).toEqual([true, true, false]);
  expect(mine.find((r) => r.id === 't2')!.note).toBeNull();
  const filtered = await selectRows(db.dataSource, ThingEntity, { in: ['ownerId', ['a', 'b', 'c']], equals: { done: false }, compare: [['rank', '<', 5]] });
  expect(filtered).toEqual(await repo.find({ where: { ownerId: In(['a', 'b', 'c']), done: false, rank: LessThan(5) } }));
  expect(filtered.map((r) => r.id)).toEqual(['t2']);
});

it('reads nothing for no keys, and refuses a property that is no column', async () => {
  expect(await selectRows(db.dataSource, ThingEntity, { in: ['id', []] })).toEqual([]);
  await expect(selectRows(db.dataSource, ThingEntity, { in: ['id', ['t1']], equals: { nope: 1 } as never })).rejects.toThrow('rows: no column nope');
});
