import fs from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';
import { DataSource, type EntitySchema, type Logger, type MixedList } from 'typeorm';
import pg, { Client } from 'pg';
import { DEFAULT_DATABASE_POOL, type DatabaseKind, type DatabasePoolSettings } from './config';
import { logger } from './logging';

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
    logger.error(`[db] statement failed (${name})`);
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    if (process.env.PORTAL_QUIET !== '1') logger.info(`[db] ${message}`);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') logger.warn(`[db] ${String(message)}`);
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
  /** PostgreSQL pool bounds; DEFAULT_DATABASE_POOL when unset. */
  pool?: DatabasePoolSettings;
}

export interface PortalDataSource {
  dataSource: DataSource;
  kind: DatabaseKind;
  counter: StatementCounter;
  /** Drops everything this data source created (tests only). */
  destroyAndDrop(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A pool error handler prints this at most once a minute: a restart of PostgreSQL ends every idle connection at once. */
const POOL_ERROR_REPORT_MS = 60_000;

/**
 * PostgreSQL's client with two changes: a connection's error never goes
 * unheard (see the constructor), and a statement with no answer in time
 * (`query_timeout`: the server or the network hung, so the server's own
 * statement_timeout cannot act) ends its connection. pg would otherwise give
 * the connection back to the pool with the lost statement still waiting on
 * it, and every later statement on it would wait behind that one.
 */
class PortalPgClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // The pool and TypeORM each listen for a connection's errors only while it is theirs: one that
    // ends between the two (a backend terminated as the pool hands the connection over) would
    // otherwise be an unhandled 'error' event, which ends the process. They still see the error.
    this.on('error', () => undefined);
  }

  override query(...args: unknown[]): any {
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result && typeof (result as Promise<unknown>).catch === 'function') {
      (result as Promise<unknown>).catch((e: Error) => {
        if (e?.message === 'Query read timeout') (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      });
    }
    return result;
  }
}

/**
 * Opens the subgraph's own database, creating the schema if missing, and runs pending migrations.
 * On PostgreSQL both happen under an advisory lock named after the schema, so
 * instances starting together on a new or an older schema take turns: the
 * first migrates, the others find nothing left to do.
 */
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
  if (!options.databaseUrl) return openSqlite(options, common, counter);
  const schema = (options.schema ?? options.name).replace(/-/g, '_');
  if (!SCHEMA_NAME.test(schema)) throw new Error(`Unusable schema name ${schema}`);
  const pool = options.pool ?? DEFAULT_DATABASE_POOL;
  const databaseUrl = options.databaseUrl;
  let lastReport = 0;
  const dataSource = new DataSource({
    ...common,
    type: 'postgres',
    url: databaseUrl,
    schema,
    migrationsTableName: 'migrations',
    // Named per data source, so an operator (or a test) can find this pool's connections in pg_stat_activity.
    applicationName: `portal:${schema}`.slice(0, 63),
    poolSize: pool.max,
    // Waiting for a connection (from the pool, or a new one) is bounded: a request fails cleanly instead.
    connectTimeoutMS: pool.acquireTimeoutMs,
    // A backend that ends under an idle connection (a restart, pg_terminate_backend) must not crash the process.
    poolErrorHandler: (error: Error) => {
      if (Date.now() - lastReport < POOL_ERROR_REPORT_MS || process.env.PORTAL_QUIET === '1') return;
      lastReport = Date.now();
      logger.warn(`[db] ${schema}: an idle connection failed (${(error as { code?: string }).code ?? error.name}); the pool opens a new one when needed`);
    },
    extra: {
      Client: PortalPgClient,
      // Unqualified names in migrations resolve to this subgraph's schema only.
      options: `-c search_path=${schema}`,
      statement_timeout: pool.statementTimeoutMs,
      idle_in_transaction_session_timeout: pool.statementTimeoutMs,
      // The client's own bound, for when the server cannot cancel: a little after the server's.
      query_timeout: pool.statementTimeoutMs + 1_000,
      keepAlive: true,
    },
  });
  const drop = async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    const c = new Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await c.end();
    }
  };
  const lock = new Client({ connectionString: databaseUrl, application_name: `portal:${schema}:migrate`.slice(0, 63) });
  await lock.connect();
  try {
    // A session lock on a connection of its own: held across the migrations' own transactions.
    await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`portal-migrations:${schema}`]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    // Migrations get a connection of their own, without the bounds of requests: a schema
    // change on a large table may take longer than any request should.
    const migrator = new DataSource({
      ...common,
      type: 'postgres',
      url: databaseUrl,
      schema,
      migrationsTableName: 'migrations',
      applicationName: `portal:${schema}:migrate`.slice(0, 63),
      poolSize: 1,
      extra: { options: `-c search_path=${schema}` },
    });
    await migrator.initialize();
    try {
      await migrator.runMigrations({ transaction: 'each' });
    } finally {
      await migrator.destroy();
    }
    await dataSource.initialize();
  } finally {
    // Ending the session releases the lock, whatever happened.
    await lock.end();
  }
  counter.count = 0;
  return { dataSource, kind: 'postgres', counter, destroyAndDrop: drop };
}

async function openSqlite(options: DataSourceOptions, common: object, counter: StatementCounter): Promise<PortalDataSource> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, `${options.schema ?? options.name}.sqlite`);
  const dataSource = new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: file,
    // WAL lets readers proceed while one writer commits; busy_timeout waits instead of failing.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  } as ConstructorParameters<typeof DataSource>[0]);
  const drop = async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  };
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  counter.count = 0;
  return { dataSource, kind: 'sqlite', counter, destroyAndDrop: drop };
}

/** Node's errors for a connection that could not be made or was lost. */
const CONNECTION_ERRNOS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** pg's own messages for a connection lost, never made, or a statement with no answer. */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection terminated due to connection timeout)/;

/**
 * Whether an error means the database could not be used just now (down,
 * restarting, unreachable, too slow), rather than that a statement was wrong:
 * such a failure is SERVICE_UNAVAILABLE to the client, and passes.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { driverError?: unknown; code?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    // 08: connection exception; 57P01-03: the server is shutting down or starting;
    // 57014: statement_timeout; 53300: too many connections; 25P03: idle transaction timed out.
    if (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '57014' || code === '53300' || code === '25P03') return true;
    if (CONNECTION_ERRNOS.has(code) || code === 'SQLITE_BUSY') return true;
    if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? (e as { cause?: unknown }).cause) as typeof e;
  }
  return false;
}
