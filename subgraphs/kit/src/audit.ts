import { randomUUID } from 'node:crypto';
import { EntitySchema, Table, type DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { Viewer } from './auth/tokens';
import { runChange } from './writes';
import { execute, placeholders } from './sql';

/**
 * The kind of health record an audit event names (e.g. 'prescription'): each
 * subgraph names its own, in its policy file. Identifiers only, never content.
 */
export type RecordKind = string;

export type AuditAction = 'read' | 'create' | 'update' | 'delete';

export interface AuditEventRow {
  id: string;
  occurredAt: string;
  requestId: string;
  subgraph: string;
  actorAccountId: string | null;
  actorPersonId: string | null;
  actorRole: string;
  patientId: string;
  recordKind: string;
  action: string;
  outcome: 'ALLOWED' | 'DENIED';
}

export const AuditEventEntity = new EntitySchema<AuditEventRow>({
  name: 'AuditEvent',
  tableName: 'audit_event',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    occurredAt: { name: 'occurred_at', type: 'varchar', length: 32 },
    requestId: { name: 'request_id', type: 'varchar', length: 64 },
    subgraph: { type: 'varchar', length: 32 },
    actorAccountId: { name: 'actor_account_id', type: 'varchar', length: 64, nullable: true },
    actorPersonId: { name: 'actor_person_id', type: 'varchar', length: 64, nullable: true },
    actorRole: { name: 'actor_role', type: 'varchar', length: 16 },
    patientId: { name: 'patient_id', type: 'varchar', length: 64 },
    recordKind: { name: 'record_kind', type: 'varchar', length: 32 },
    action: { type: 'varchar', length: 16 },
    outcome: { type: 'varchar', length: 8 },
  },
});

/** The columns of an insert, in the order `insert` binds each row's values. */
const AUDIT_ROWS_PER_INSERT = 1_000;
const AUDIT_COLUMNS = ['id', 'occurred_at', 'request_id', 'subgraph', 'actor_account_id', 'actor_person_id', 'actor_role', 'patient_id', 'record_kind', 'action', 'outcome'] as const;

/** Creates the append-only audit table; every subgraph lists it first among its migrations. */
export class CreateAuditEvent1764000000000 implements MigrationInterface {
  name = 'CreateAuditEvent1764000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_event',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'occurred_at', type: 'varchar', length: '32' },
          { name: 'request_id', type: 'varchar', length: '64' },
          { name: 'subgraph', type: 'varchar', length: '32' },
          { name: 'actor_account_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'actor_person_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'actor_role', type: 'varchar', length: '16' },
          { name: 'patient_id', type: 'varchar', length: '64' },
          { name: 'record_kind', type: 'varchar', length: '32' },
          { name: 'action', type: 'varchar', length: '16' },
          { name: 'outcome', type: 'varchar', length: '8' },
        ],
        indices: [{ columnNames: ['patient_id', 'occurred_at'] }],
      }),
    );
    // Append-only in the database itself, not just by convention in code.
    if (q.connection.options.type === 'postgres') {
      await q.query(`CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql`);
      await q.query(`CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`);
    } else {
      await q.query(`CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`);
      await q.query(`CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`);
    }
  }
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_event');
  }
}

/**
 * Collects the audit events of one request. A change writes them inside its
 * own transaction (`transaction`), so the change and its audit rows commit or
 * roll back together; whatever is left (reads, refusals, a change that rolled
 * back) is written in one statement when the response is sent (`flush`),
 * before the client gets it.
 */
export class AuditTrail {
  private readonly pending = new Map<string, AuditEventRow>();
  /** Keys already written: the same event recorded again in this request is not written twice. */
  private readonly written = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly subgraph: string,
    readonly requestId: string,
    private readonly viewer: Viewer | null,
  ) {}

  /** `actorRole` overrides the viewer's role, e.g. 'PROXY' for a patient acting under another patient's grant. */
  record(patientId: string, recordKind: RecordKind, action: AuditAction, outcome: 'ALLOWED' | 'DENIED', actorRole?: string): void {
    const key = `${patientId}|${recordKind}|${action}|${outcome}`;
    if (this.pending.has(key) || this.written.has(key)) return;
    this.pending.set(key, {
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      requestId: this.requestId,
      subgraph: this.subgraph,
      actorAccountId: this.viewer?.accountId ?? null,
      actorPersonId: this.viewer?.personId ?? null,
      actorRole: actorRole ?? this.viewer?.role ?? 'ANONYMOUS',
      patientId,
      recordKind,
      action,
      outcome,
    });
  }

  /**
   * Runs `work` in one transaction that ends by inserting every event recorded
   * so far (the change's own checks among them): if the audit insert fails,
   * the change rolls back with it. Events of a transaction that rolled back
   * are pending again and flushed with the response, as the record of an
   * attempt. Call it inside the subgraph's `runChange` where it uses one.
   */
  async transaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    let taken = new Map<string, AuditEventRow>();
    try {
      return await db.transaction(async (tx) => {
        const value = await work(tx);
        taken = this.take();
        await this.insert(tx, taken);
        return value;
      });
    } catch (e) {
      this.restore(taken);
      throw e;
    }
  }

  /**
   * Writes what is pending. On SQLite it queues behind the changes in flight
   * (`runChange`): every request shares one connection there, and an insert
   * made while another request's transaction is open would join it and be
   * lost if that one rolled back. A failure keeps the events pending and
   * fails the response.
   */
  async flush(): Promise<void> {
    const taken = this.take();
    if (taken.size === 0) return;
    try {
      await runChange(this.dataSource, () => this.insert(this.dataSource.manager, taken));
    } catch (e) {
      this.restore(taken);
      throw e;
    }
  }

  private take(): Map<string, AuditEventRow> {
    const taken = new Map(this.pending);
    this.pending.clear();
    for (const key of taken.keys()) this.written.add(key);
    return taken;
  }

  private restore(taken: Map<string, AuditEventRow>): void {
    for (const [key, row] of taken) {
      this.written.delete(key);
      if (!this.pending.has(key)) this.pending.set(key, row);
    }
  }

  /**
   * Plain INSERTs of every row, up to AUDIT_ROWS_PER_INSERT rows a statement
   * (within both databases' bound on parameters): TypeORM's query builder cost
   * more CPU than the statement on every audited request.
   */
  private async insert(manager: EntityManager, rows: Map<string, AuditEventRow>): Promise<void> {
    const all = [...rows.values()];
    for (let start = 0; start < all.length; start += AUDIT_ROWS_PER_INSERT) {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (const r of all.slice(start, start + AUDIT_ROWS_PER_INSERT)) {
        tuples.push(`(${placeholders(AUDIT_COLUMNS.length, params.length + 1)})`);
        params.push(r.id, r.occurredAt, r.requestId, r.subgraph, r.actorAccountId, r.actorPersonId, r.actorRole, r.patientId, r.recordKind, r.action, r.outcome);
      }
      await execute(manager, `INSERT INTO audit_event (${AUDIT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
  }
}
