/**
 * Loads the synthetic population into PostgreSQL: the subgraphs' real
 * migrations (and the demo cast's reference data: medications, health
 * topics, clinics) first, then the population with COPY, one transaction per
 * batch of patients across all five schemas, each committed with a marker row.
 * An interrupted run is resumed by running it again: finished batches are
 * skipped. Secondary indexes of the growing tables are dropped before the bulk
 * load (their definitions kept in the marker schema) and built again at the end.
 */
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntitySchema } from 'typeorm';
import { AUDIT_MIGRATIONS, AuditEventEntity, openDatabase, type PortalDataSource } from '@portal/kit';
import { hashPassword } from '@portal/identity/testing';
import { SUBGRAPHS, type SubgraphName } from '@portal/gateway';
import { MODULES } from '@portal/server';
import { COLUMNS, makePlan, patientRows, RowSink, staffRows, SYNTHETIC_PASSWORD, type Plan, type SubgraphSchema, type TableName } from './population';

export interface LoadOptions {
  databaseUrl: string;
  patients: number;
  seed: number;
  /** Schemas are `<prefix>_identity`... (the stack's `databasePrefix`); none means the subgraphs' own names. */
  schemaPrefix?: string;
  /** Patients per transaction. */
  batchSize?: number;
  /** Batches loaded at once (each on its own connection). */
  jobs?: number;
  /** UTC day to build the population around; a resumed run keeps the one it started with. */
  referenceDay?: string;
  /** Keep the secondary indexes during the load (small populations). */
  keepIndexes?: boolean;
  /** Progress reports (the CLI draws a bar on stderr). */
  onProgress?: (p: Progress) => void;
  /** Whether this is a production start (NODE_ENV=production): refused. */
  production?: boolean;
}

export interface Progress {
  phase: 'migrate' | 'staff' | 'patients' | 'indexes' | 'analyze' | 'done';
  patientsDone: number;
  patients: number;
  rows: number;
  elapsedMs: number;
}

export interface LoadResult {
  plan: Plan;
  schemas: Record<SubgraphSchema, string>;
  /** Rows written by this run (0 when everything was there already). */
  rows: number;
  seconds: number;
  /** Batches found done from an earlier run. */
  resumedBatches: number;
}

const SCHEMA_OF: Record<SubgraphName, SubgraphSchema> = {
  identity: 'identity',
  scheduling: 'scheduling',
  messaging: 'messaging',
  pharmacy: 'pharmacy',
  'clinical-records': 'clinical_records',
};

export function schemaNames(prefix?: string): Record<SubgraphSchema, string> {
  const name = (s: string) => (prefix ? `${prefix}_${s}` : s);
  return {
    identity: name('identity'),
    scheduling: name('scheduling'),
    messaging: name('messaging'),
    pharmacy: name('pharmacy'),
    clinical_records: name('clinical_records'),
  };
}

/** The schema of the load's own bookkeeping: what was asked, which batches are done, which indexes wait to be rebuilt. */
export const markerSchema = (prefix?: string) => (prefix ? `${prefix}_synthetic` : 'synthetic');

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Runs each subgraph's migrations (the same ones a start runs) and its demo seed: medications, topics, clinics. */
async function migrate(databaseUrl: string, schemas: Record<SubgraphSchema, string>): Promise<void> {
  for (const def of SUBGRAPHS) {
    const name = def.name as SubgraphName;
    const module = MODULES[name].create();
    let db: PortalDataSource | undefined;
    try {
      db = await openDatabase({
        name: module.name,
        schema: schemas[SCHEMA_OF[name]],
        entities: [AuditEventEntity, ...(module.entities as EntitySchema<any>[])],
        migrations: [...AUDIT_MIGRATIONS, ...module.migrations],
        dataDir: '.data',
        databaseUrl,
        pool: { max: 2, acquireTimeoutMs: 10_000, statementTimeoutMs: 600_000 },
      });
      await MODULES[name].seed(db.dataSource);
    } finally {
      if (db?.dataSource.isInitialized) await db.dataSource.destroy();
    }
  }
}

export async function loadPopulation(o: LoadOptions): Promise<LoadResult> {
  if (o.production) throw new Error('NODE_ENV=production refuses to seed synthetic patients: development and benchmarks only.');
  if (!Number.isInteger(o.patients) || o.patients < 1 || o.patients > 20_000_000) throw new Error('--patients must be a whole number from 1 to 20000000');
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be a whole number');
  if (o.schemaPrefix && !/^[a-z_][a-z0-9_]{0,40}$/.test(o.schemaPrefix)) throw new Error('--schema-prefix must be lower-case letters, digits and _');
  const started = Date.now();
  const batchSize = o.batchSize ?? 2000;
  const schemas = schemaNames(o.schemaPrefix);
  const marker = markerSchema(o.schemaPrefix);
  const report = (phase: Progress['phase'], patientsDone: number, rows: number) =>
    o.onProgress?.({ phase, patientsDone, patients: o.patients, rows, elapsedMs: Date.now() - started });

  const admin = new Client({ connectionString: o.databaseUrl, application_name: 'portal:seed-synthetic' });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${quote(marker)}`);
    await admin.query(`CREATE TABLE IF NOT EXISTS ${quote(marker)}.meta (id int PRIMARY KEY, patients int NOT NULL, seed int NOT NULL, reference_day varchar(10) NOT NULL, batch_size int NOT NULL, complete boolean NOT NULL DEFAULT false, seconds double precision)`);
    await admin.query(`CREATE TABLE IF NOT EXISTS ${quote(marker)}.batch (batch int PRIMARY KEY, rows int NOT NULL, done_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`CREATE TABLE IF NOT EXISTS ${quote(marker)}.dropped_index (schema_name text NOT NULL, index_name text NOT NULL, definition text NOT NULL, PRIMARY KEY (schema_name, index_name))`);
    const [meta] = (await admin.query(`SELECT patients, seed, reference_day AS "referenceDay", batch_size AS "batchSize", complete FROM ${quote(marker)}.meta WHERE id = 1`)).rows;
    if (meta && (meta.patients !== o.patients || meta.seed !== o.seed)) {
      throw new Error(
        `The schemas of prefix "${o.schemaPrefix ?? ''}" hold a population of ${meta.patients} patients from seed ${meta.seed}: use another --schema-prefix, or drop those schemas first.`,
      );
    }
    const referenceDay = meta?.referenceDay ?? o.referenceDay ?? new Date().toISOString().slice(0, 10);
    const size = meta?.batchSize ?? batchSize;
    if (!meta) await admin.query(`INSERT INTO ${quote(marker)}.meta (id, patients, seed, reference_day, batch_size) VALUES (1, $1, $2, $3, $4)`, [o.patients, o.seed, referenceDay, size]);
    const plan = makePlan({ patients: o.patients, seed: o.seed, referenceDay });
    if (meta?.complete) return { plan, schemas, rows: 0, seconds: 0, resumedBatches: Math.ceil(o.patients / size) + 1 };

    report('migrate', 0, 0);
    await migrate(o.databaseUrl, schemas);

    const done = new Set<number>((await admin.query(`SELECT batch FROM ${quote(marker)}.batch`)).rows.map((r: { batch: number }) => r.batch));
    const resumedBatches = done.size;
    if (!o.keepIndexes && done.size === 0) await dropSecondaryIndexes(admin, schemas, marker);

    const passwordHash = await hashPassword(SYNTHETIC_PASSWORD);
    let rows = 0;
    let patientsDone = 0;
    const batches = Math.ceil(o.patients / size);
    for (let b = 0; b < batches; b++) if (done.has(b)) patientsDone += Math.min(size, o.patients - b * size);

    // Batch -1: the staff (teams, clinics, practitioners, pharmacists, slots).
    const writeBatch = async (client: Client, batch: number, fill: (sink: RowSink) => void) => {
      const sink = new RowSink();
      fill(sink);
      await client.query('BEGIN');
      try {
        for (const [table, lines] of sink.tables) await copy(client, schemas, table, lines);
        await client.query(`INSERT INTO ${quote(marker)}.batch (batch, rows) VALUES ($1, $2)`, [batch, sink.rows]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      return sink.rows;
    };
    const openClient = async () => {
      const c = new Client({ connectionString: o.databaseUrl, application_name: 'portal:seed-synthetic' });
      await c.connect();
      // Foreign keys are checked per row by triggers; a superuser skips them for the bulk load (the generator keeps them true).
      await c.query('SET session_replication_role = replica').catch(() => undefined);
      await c.query('SET synchronous_commit = off');
      return c;
    };
    if (!done.has(-1)) {
      report('staff', patientsDone, rows);
      const c = await openClient();
      try {
        const written = await writeBatch(c, -1, (sink) => staffRows(plan, sink));
        rows += written;
      } finally {
        await c.end();
      }
    }
    report('patients', patientsDone, rows);
    const todo = Array.from({ length: batches }, (_, b) => b).filter((b) => !done.has(b));
    let next = 0;
    const jobs = Math.max(1, Math.min(o.jobs ?? 2, 8));
    await Promise.all(
      Array.from({ length: Math.min(jobs, todo.length) }, async () => {
        const c = await openClient();
        try {
          while (next < todo.length) {
            const b = todo[next++];
            const first = b * size;
            const last = Math.min(o.patients, first + size);
            // Not `rows += await ...`: that reads `rows` before the wait, losing the other job's rows.
            const written = await writeBatch(c, b, (sink) => {
              for (let i = first; i < last; i++) patientRows(plan, i, passwordHash, sink);
            });
            rows += written;
            patientsDone += last - first;
            report('patients', patientsDone, rows);
          }
        } finally {
          await c.end();
        }
      }),
    );

    report('indexes', patientsDone, rows);
    await rebuildIndexes(o.databaseUrl, admin, marker, jobs);
    report('analyze', patientsDone, rows);
    for (const s of Object.values(schemas)) {
      const tables = (await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [s])).rows as { tablename: string }[];
      // VACUUM as well: it marks the freshly written pages all-visible, as autovacuum would in time, so counts can read indexes only.
      for (const t of tables) await admin.query(`VACUUM (ANALYZE) ${quote(s)}.${quote(t.tablename)}`);
    }
    const seconds = (Date.now() - started) / 1000;
    await admin.query(`UPDATE ${quote(marker)}.meta SET complete = true, seconds = COALESCE(seconds, 0) + $1 WHERE id = 1`, [seconds]);
    report('done', patientsDone, rows);
    return { plan, schemas, rows, seconds, resumedBatches };
  } finally {
    await admin.end();
  }
}

async function copy(client: Client, schemas: Record<SubgraphSchema, string>, table: TableName, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const [schema, name] = table.split('.') as [SubgraphSchema, string];
  const columns = COLUMNS[table].map(quote).join(', ');
  const stream = client.query(copyFrom(`COPY ${quote(schemas[schema])}.${quote(name)} (${columns}) FROM STDIN`));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    // Chunks of a few MB: one string per table would need twice its size at once.
    const chunk = 20_000;
    let k = 0;
    const write = () => {
      while (k < lines.length) {
        const part = lines.slice(k, k + chunk).join('\n') + '\n';
        k += chunk;
        if (!stream.write(part)) return void stream.once('drain', write);
      }
      stream.end();
    };
    write();
  });
}

/** Indexes that back no constraint (primary keys and unique constraints stay) on the tables the load fills. */
async function dropSecondaryIndexes(admin: Client, schemas: Record<SubgraphSchema, string>, marker: string): Promise<void> {
  const tables = Object.keys(COLUMNS).map((t) => {
    const [s, name] = t.split('.') as [SubgraphSchema, string];
    return { schema: schemas[s], name };
  });
  for (const t of tables) {
    const { rows } = await admin.query(
      `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`,
      [t.schema, t.name],
    );
    for (const r of rows as { name: string; definition: string }[]) {
      await admin.query('BEGIN');
      await admin.query(`INSERT INTO ${quote(marker)}.dropped_index VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [t.schema, r.name, r.definition]);
      await admin.query(`DROP INDEX ${quote(t.schema)}.${quote(r.name)}`);
      await admin.query('COMMIT');
    }
  }
}

/** Builds every index the load dropped (also those of an interrupted run), `jobs` at a time. */
async function rebuildIndexes(databaseUrl: string, admin: Client, marker: string, jobs: number): Promise<void> {
  const { rows } = await admin.query(`SELECT schema_name AS "schema", index_name AS "name", definition FROM ${quote(marker)}.dropped_index`);
  const todo = rows as { schema: string; name: string; definition: string }[];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, todo.length) }, async () => {
      const c = new Client({ connectionString: databaseUrl, application_name: 'portal:seed-synthetic' });
      await c.connect();
      try {
        await c.query(`SET maintenance_work_mem = '256MB'`);
        while (next < todo.length) {
          const ix = todo[next++];
          const exists = (await c.query(`SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, [ix.schema, ix.name])).rows.length > 0;
          if (!exists) await c.query(ix.definition);
          await c.query(`DELETE FROM ${quote(marker)}.dropped_index WHERE schema_name = $1 AND index_name = $2`, [ix.schema, ix.name]);
        }
      } finally {
        await c.end();
      }
    }),
  );
}

/** Drops every schema of a prefix, the bookkeeping one included (tests and benchmarks). */
export async function dropPopulation(databaseUrl: string, prefix?: string): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    for (const s of [...Object.values(schemaNames(prefix)), markerSchema(prefix)]) await c.query(`DROP SCHEMA IF EXISTS ${quote(s)} CASCADE`);
  } finally {
    await c.end();
  }
}

/** How much the population's schemas take on disk, in bytes. */
export async function populationBytes(databaseUrl: string, prefix?: string): Promise<number> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY($1)`,
      [Object.values(schemaNames(prefix))],
    );
    return Number(rows[0].bytes);
  } finally {
    await c.end();
  }
}
