/** Test helper: a database holding only the audit table (audit and access tests). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditEventEntity, type AuditEventRow } from './audit';
import { AUDIT_MIGRATIONS } from './accessLog';
import { openDatabase, type PortalDataSource } from './db';
import { testDatabaseUrl, uniqueDatabaseName } from './testing';

/** A fresh database (SQLite file or PostgreSQL schema) holding only the audit table, made by its real migration. */
export async function openAuditDatabase(): Promise<{ db: PortalDataSource; rows(): Promise<AuditEventRow[]>; close(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-audit-test-'));
  try {
    const db = await openDatabase({
      name: 'audit',
      schema: uniqueDatabaseName('audit'),
      entities: [AuditEventEntity],
      migrations: AUDIT_MIGRATIONS,
      dataDir,
      databaseUrl: testDatabaseUrl(),
    });
    return {
      db,
      rows: () => db.dataSource.getRepository(AuditEventEntity).find({ order: { patientId: 'ASC', recordKind: 'ASC', action: 'ASC', outcome: 'ASC' } }),
      async close() {
        await db.destroyAndDrop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

