/**
 * Test helper: identity's database on its own (no server), made by its real
 * migrations and seeded with the demo cast; a temporary SQLite file, or a
 * unique PostgreSQL schema when the test project runs on PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type PortalDataSource } from '@portal/kit';
import { testDatabaseUrl, uniqueDatabaseName } from '@portal/kit/testing';
import { createIdentityModule } from '../module';
import { seedDemo } from '../seed';
import { IdentityStore } from './store';

export interface TestIdentityDatabase {
  db: PortalDataSource;
  store: IdentityStore;
  dataDir: string;
  close(): Promise<void>;
}

export async function openTestIdentityDatabase(): Promise<TestIdentityDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-identity-db-test-'));
  let db: PortalDataSource | undefined;
  const close = async () => {
    try {
      await db?.destroyAndDrop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const module = createIdentityModule();
  try {
    db = await openDatabase({
      name: 'identity',
      schema: uniqueDatabaseName('identity'),
      // The module's own lists, so a migration added there is run here too.
      entities: module.entities,
      migrations: module.migrations,
      dataDir,
      databaseUrl: testDatabaseUrl(),
    });
    await seedDemo(db.dataSource);
    return { db, store: new IdentityStore(db.dataSource), dataDir, close };
  } catch (e) {
    await close();
    throw e;
  }
}
