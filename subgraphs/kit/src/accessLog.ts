/**
 * The patient's access log, one subgraph's part of it: the audit rows that
 * name the signed-in patient, newest first, keyset-paged, asked by identity
 * (which owns `Patient.accessLog`) with the patient's own token. Every
 * subgraph answers it the same way (`POST /internal/audit-events`, added by
 * `startSubgraph`); identity reads its own rows with `auditEventsOfPatient`.
 */
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import type { IncomingMessage } from 'node:http';
import type { SessionGuard } from './auth/sessions';
import type { TokenVerifier, Viewer } from './auth/tokens';
import { PortalError } from './errors';
import { postInternal } from './internalHttp';
import { MAX_PAGE_SIZE } from './pagination';
import { sql } from './sql';
import { injectTraceHeaders } from './tracing';
import { CreateAuditEvent1764000000000 } from './audit';

/**
 * Rows the log shows when the patient's own reads are folded away: anything
 * but a read by the patient themself. Written as OR-ed terms, not `NOT (...)`,
 * so a row without an actor person (an anonymous refusal) is kept and not
 * lost to NULL; the partial index below repeats this text word for word, as
 * both databases use a partial index only for a query whose WHERE contains
 * its predicate.
 */
export const SHOWN_BY_DEFAULT = `(action <> 'read' OR actor_role <> 'PATIENT' OR actor_person_id IS NULL OR actor_person_id <> patient_id)`;

/**
 * Indexes for the access log, on both databases: the whole log of a patient
 * by (occurred_at, id) (asked with `includeOwnReads`), and the log without
 * the patient's own reads (the default), which is most of a patient's rows
 * after years of portal use and would otherwise be scanned past. The first
 * replaces the table's index on (patient_id, occurred_at), which it covers.
 * Part of every subgraph's migrations (`AUDIT_MIGRATIONS`).
 */
export class AccessLogIndexes1764000000001 implements MigrationInterface {
  name = 'AccessLogIndexes1764000000001';
  async up(q: QueryRunner): Promise<void> {
    // The first migration's index has a name TypeORM generated: found by its columns (before the new ones exist), in this schema only.
    const postgres = q.connection.options.type === 'postgres';
    const old: { name: string }[] = await q.query(
      postgres
        ? // This schema's indexes first (MATERIALIZED: pg_get_indexdef runs on no other schema's index, which
          // a concurrent DROP elsewhere could remove mid-query: "could not open relation with OID").
          `WITH mine AS MATERIALIZED (
             SELECT i.indexrelid, c.relname FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relname = 'audit_event' AND t.relnamespace = current_schema()::regnamespace)
           SELECT relname AS name FROM mine WHERE pg_get_indexdef(indexrelid) LIKE '%(patient_id, occurred_at)'`
        : `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event' AND sql LIKE '%("patient_id", "occurred_at")%'`,
    );
    await q.query(`CREATE INDEX audit_event_patient_log ON audit_event (patient_id, occurred_at, id)`);
    await q.query(`CREATE INDEX audit_event_patient_log_others ON audit_event (patient_id, occurred_at, id) WHERE ${SHOWN_BY_DEFAULT}`);
    for (const { name } of old) await q.query(`DROP INDEX "${name}"`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_event_patient_occurred ON audit_event (patient_id, occurred_at)`);
    await q.query(`DROP INDEX audit_event_patient_log_others`);
    await q.query(`DROP INDEX audit_event_patient_log`);
  }
}

/** The audit table's migrations, in order: every subgraph lists them before its own. */
export const AUDIT_MIGRATIONS: Function[] = [CreateAuditEvent1764000000000, AccessLogIndexes1764000000001];

/** One row of the log as a subgraph answers it: kinds and actions only, never content. */
export interface AccessLogRow {
  id: string;
  occurredAt: string;
  subgraph: string;
  /** The actor's person id (`service:<client>` for a service), for identity to name; never sent to a client. */
  actorPersonId: string | null;
  actorRole: string;
  recordKind: string;
  action: string;
  outcome: string;
}

/** Which part of the log: at most `limit` rows strictly older than `before`. */
export interface AccessLogQuestion {
  limit: number;
  before: { occurredAt: string; id: string } | null;
  includeOwnReads: boolean;
}

/** A page plus one row, so the caller can tell whether there is more. */
export const MAX_ACCESS_LOG_ROWS = MAX_PAGE_SIZE + 1;

/**
 * The patient's audit rows in this subgraph's database, newest first. One
 * statement, served by `audit_event_patient_log_others` (default) or
 * `audit_event_patient_log` (own reads included): equality on patient_id, a
 * row-value range on (occurred_at, id), the index's order, LIMIT.
 */
export async function auditEventsOfPatient(db: DataSource | EntityManager, patientId: string, q: AccessLogQuestion): Promise<AccessLogRow[]> {
  return sql<AccessLogRow>(db, accessLogStatement(q), accessLogParams(patientId, q));
}

/** The statement of `auditEventsOfPatient` (also EXPLAINed by the scale test). */
export function accessLogStatement(q: Pick<AccessLogQuestion, 'before' | 'includeOwnReads'>): string {
  const where = ['patient_id = $1'];
  if (q.before) where.push('(occurred_at, id) < ($3, $4)');
  if (!q.includeOwnReads) where.push(SHOWN_BY_DEFAULT);
  return `SELECT id, occurred_at AS "occurredAt", subgraph, actor_person_id AS "actorPersonId", actor_role AS "actorRole",
                 record_kind AS "recordKind", action, outcome
            FROM audit_event
           WHERE ${where.join(' AND ')}
           ORDER BY occurred_at DESC, id DESC
           LIMIT $2`;
}

export function accessLogParams(patientId: string, q: AccessLogQuestion): unknown[] {
  return q.before ? [patientId, q.limit, q.before.occurredAt, q.before.id] : [patientId, q.limit];
}

const KEY_TEXT = /^[\x20-\x7e]{1,64}$/;

/** The question from a request body; null for anything malformed. */
export function parseAccessLogQuestion(body: Buffer): AccessLogQuestion | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object') return null;
  const { limit, before, includeOwnReads } = parsed as Record<string, unknown>;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_ACCESS_LOG_ROWS) return null;
  let keyset: AccessLogQuestion['before'] = null;
  if (before !== undefined && before !== null) {
    const { occurredAt, id } = before as Record<string, unknown>;
    if (typeof occurredAt !== 'string' || typeof id !== 'string' || !KEY_TEXT.test(occurredAt) || !KEY_TEXT.test(id)) return null;
    keyset = { occurredAt, id };
  }
  if (includeOwnReads !== undefined && typeof includeOwnReads !== 'boolean') return null;
  return { limit: limit as number, before: keyset, includeOwnReads: includeOwnReads === true };
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

type RouteAnswer = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * `POST /internal/audit-events`: the caller's own rows, and only to a patient
 * with a live session. The token names the patient; nothing in the body can
 * name another. Staff, services and administrators get 403: their own
 * access log is not this one, and nobody reads a patient's log but the patient.
 */
export function auditEventsRoute(db: DataSource, verifier: TokenVerifier, sessions: SessionGuard | null) {
  return async (req: IncomingMessage, body: Buffer): Promise<RouteAnswer> => {
    const viewer = await verifier.fromAuthorizationHeader(req.headers.authorization).catch(() => null);
    if (!viewer) return { status: 401, body: { error: 'unauthenticated' } };
    if (viewer.role !== 'PATIENT') return { status: 403, body: { error: 'forbidden' } };
    if (sessions) {
      try {
        await sessions.check(viewer);
      } catch (e) {
        if (e instanceof PortalError && e.extensions.code === 'UNAUTHENTICATED') return { status: 401, body: { error: 'session ended' } };
        return { status: 503, body: { error: 'unavailable' } };
      }
    }
    const question = parseAccessLogQuestion(body);
    if (!question) return { status: 400, body: { error: 'bad request' } };
    try {
      const events = await auditEventsOfPatient(db, viewer.personId, question);
      return { status: 200, body: { events }, headers: NO_STORE };
    } catch {
      return { status: 503, body: { error: 'unavailable' } };
    }
  };
}

/**
 * Asks one subgraph's route with the patient's own token. Null when no
 * usable answer came within `timeoutMs` (down, slow, an error status, a body
 * that is not the expected shape): that source is missing from this page.
 */
export async function askAuditEvents(baseUrl: string, viewer: Viewer, question: AccessLogQuestion, timeoutMs: number): Promise<AccessLogRow[] | null> {
  const res = await postInternal(
    `${baseUrl}/internal/audit-events`,
    injectTraceHeaders({ 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` }),
    JSON.stringify(question),
    timeoutMs,
  );
  if (!res || res.status !== 200) return null;
  const answer = (await res.json().catch(() => null)) as { events?: unknown } | null;
  if (!answer || !Array.isArray(answer.events)) return null;
  const rows: AccessLogRow[] = [];
  for (const e of answer.events as Record<string, unknown>[]) {
    if (!e || typeof e !== 'object') return null;
    const { id, occurredAt, subgraph, actorPersonId, actorRole, recordKind, action, outcome } = e;
    if ([id, occurredAt, subgraph, actorRole, recordKind, action, outcome].some((v) => typeof v !== 'string')) return null;
    if (actorPersonId !== null && typeof actorPersonId !== 'string') return null;
    rows.push({ id, occurredAt, subgraph, actorPersonId, actorRole, recordKind, action, outcome } as AccessLogRow);
  }
  return rows;
}
