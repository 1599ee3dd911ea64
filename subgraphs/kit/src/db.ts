import fs from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';
import { DataSource, type EntitySchema, type Logger, type MixedList } from 'typeorm';
import { Client } from 'pg';
import type { DatabaseKind } from './config';

/**
 * Counts statements per data source without printing them: the statement text
 * and its parameters can hold health data, so nothing here reaches a log.
 */
export class StatementCounter implements Logger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
  logQueryError(error: string | Error): void {
    if (process.env.PORTAL_QUIET === '1') return;
    const name = typeof error === 'string' ? 'QueryError' : error.name;
    console.error(`[db] statement failed (${name})`);
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    if (process.env.PORTAL_QUIET !== '1') console.log(`[db] ${message}`);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') console.warn(`[db] ${String(message)}`);
  }
}

export interface DataSourceOptions {
  /** The subgraph's name: the SQLite file name and the PostgreSQL schema. */
  name: string;
  entities: MixedList<EntitySchema<any>>;
  migrations: MixedList<Function>;
  dataDir: string;
  databaseUrl?: string;
  /** Overrides the PostgreSQL schema name (tests use a unique one per run). */
  schema?: string;
}

export interface PortalDataSource {
  dataSource: DataSource;
  kind: DatabaseKind;
  counter: StatementCounter;
  /** Drops everything this data source created (tests only). */
  destroyAndDrop(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens the subgraph's own database, creating the schema if missing, and runs pending migrations. */
export async function openDatabase(options: DataSourceOptions): Promise<PortalDataSource> {
  const counter = new StatementCounter();
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    synchronize: false,
    migrationsRun: false,
    logging: true as const,
    logger: counter,
  };
  let dataSource: DataSource;
  let kind: DatabaseKind;
  let drop: () => Promise<void>;
  if (options.databaseUrl) {
    kind = 'postgres';
    const schema = (options.schema ?? options.name).replace(/-/g, '_');
    if (!SCHEMA_NAME.test(schema)) throw new Error(`Unusable schema name ${schema}`);
    const admin = new Client({ connectionString: options.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      await admin.end();
    }
    dataSource = new DataSource({
      ...common,
      type: 'postgres',
      url: options.databaseUrl,
      schema,
      migrationsTableName: 'migrations',
      // Unqualified names in migrations resolve to this subgraph's schema only.
      extra: { options: `-c search_path=${schema}`, max: 10 },
    });
    drop = async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      const c = new Client({ connectionString: options.databaseUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    };
  } else {
    kind = 'sqlite';
    fs.mkdirSync(options.dataDir, { recursive: true });
    const file = path.join(options.dataDir, `${options.schema ?? options.name}.sqlite`);
    dataSource = new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: file,
      // WAL lets readers proceed while one writer commits; busy_timeout waits instead of failing.
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
      },
    });
    drop = async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    };
  }
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  counter.count = 0;
  return { dataSource, kind, counter, destroyAndDrop: drop };
}
