import { type DataSource } from 'typeorm';
import { keysetAfter, placeholders, selectRows, sql, type Page } from '@portal/kit';
import {
  AllergyEntity,
  ConditionEntity,
  ImmunizationEntity,
  type AllergyRow,
  type CodeSystem,
  type ConditionRow,
  type HealthTopicRow,
  type ImmunizationRow,
  type LabResultRow,
  type VisitNoteRow,
  type VitalRow,
} from './entities';

/** Statuses a patient or clinician may see; anything else (PRELIMINARY, DRAFT) is stored but never read. */
export const VISIBLE_RESULT_STATUSES = ['FINAL', 'AMENDED', 'CORRECTED'] as const;
export const VISIBLE_NOTE_STATUSES = ['FINAL', 'AMENDED'] as const;

// Constants only, never input: safe to write into the statement text.
const inList = (values: readonly string[]) => values.map((s) => `'${s}'`).join(', ');
const RESULT_VISIBLE = `status IN (${inList(VISIBLE_RESULT_STATUSES)})`;
const NOTE_VISIBLE = `status IN (${inList(VISIBLE_NOTE_STATUSES)})`;

const LAB_COLUMNS = `id AS "id", patient_id AS "patientId", test_name AS "testName", loinc_code AS "loincCode", value AS "value",
  unit AS "unit", ref_low AS "refLow", ref_high AS "refHigh", ref_text AS "refText", interpretation AS "interpretation",
  status AS "status", source AS "source", collected_at AS "collectedAt", resulted_at AS "resultedAt", sensitivity AS "sensitivity"`;
const NOTE_COLUMNS = `id AS "id", patient_id AS "patientId", appointment_id AS "appointmentId", author_id AS "authorId", title AS "title",
  note_type AS "noteType", status AS "status", source AS "source", authored_at AS "authoredAt", text AS "text", sensitivity AS "sensitivity"`;
const VITAL_COLUMNS = `id AS "id", patient_id AS "patientId", kind AS "kind", value AS "value", unit AS "unit", recorded_at AS "recordedAt"`;
const TOPIC_COLUMNS = `t.id AS "id", t.title AS "title", t.summary AS "summary", t.body AS "body", t.reviewed_by AS "reviewedBy", t.reviewed_at AS "reviewedAt"`;

/** A page of one patient-owned table, newest first by `sortColumn` then id. */
interface PagedTable {
  table: string;
  columns: string;
  sortColumn: string;
  visible?: string;
  /** The table marks rows sensitive (a `sensitivity` column): a proxy whose grant hides them never reads those. */
  sensitive?: boolean;
}

const LAB_RESULTS: PagedTable = { table: 'lab_result', columns: LAB_COLUMNS, sortColumn: 'resulted_at', visible: RESULT_VISIBLE, sensitive: true };
const VISIT_NOTES: PagedTable = { table: 'visit_note', columns: NOTE_COLUMNS, sortColumn: 'authored_at', visible: NOTE_VISIBLE, sensitive: true };

/**
 * Leaves out the sensitive rows of these patients (the viewer is their proxy
 * under a grant that hides them), in SQL, so pages and counts stay right.
 * `alias` prefixes the columns (e.g. `h.`); `params` are extended.
 */
function notSensitiveOf(hidden: readonly string[], params: unknown[], alias = ''): string | null {
  if (hidden.length === 0) return null;
  const first = params.length + 1;
  params.push(...hidden);
  return `NOT (${alias}sensitivity <> 'NORMAL' AND ${alias}patient_id IN (${placeholders(hidden.length, first)}))`;
}
const VITALS: PagedTable = { table: 'vital', columns: VITAL_COLUMNS, sortColumn: 'recorded_at' };

export interface HistoryPointRow {
  /** The result whose history this point belongs to, and its patient. */
  resultId: string;
  patientId: string;
  value: string;
  resultedAt: string;
}

export type CodedTopicRow = HealthTopicRow & { system: CodeSystem; code: string };

/** Every SQL statement of the clinical-records subgraph. */
export class ClinicalStore {
  constructor(private readonly db: DataSource) {}

  /** Up to `page.limit + 1` visible results of each patient, newest first (the extra row says a next page exists). */
  /** `hidden`: patients whose sensitive results are left out (see `notSensitiveOf`). */
  labResultPages(patientIds: readonly string[], page: Page, hidden: readonly string[] = []): Promise<LabResultRow[]> {
    return this.pages(LAB_RESULTS, patientIds, page.after, page.limit + 1, hidden);
  }

  /** Up to `page.limit + 1` visible notes of each patient, newest first, in one statement; `hidden` as above. */
  visitNotePages(patientIds: readonly string[], page: Page, hidden: readonly string[] = []): Promise<VisitNoteRow[]> {
    return this.pages(VISIT_NOTES, patientIds, page.after, page.limit + 1, hidden);
  }

  /** Up to `page.limit + 1` vitals of each patient, newest first, in one statement. */
  vitalPages(patientIds: readonly string[], page: Page): Promise<VitalRow[]> {
    return this.pages(VITALS, patientIds, page.after, page.limit + 1);
  }

  labResultCounts(patientIds: readonly string[], hidden: readonly string[] = []): Promise<{ patientId: string; n: number | string }[]> {
    return this.counts('lab_result', RESULT_VISIBLE, patientIds, hidden);
  }

  visitNoteCounts(patientIds: readonly string[], hidden: readonly string[] = []): Promise<{ patientId: string; n: number | string }[]> {
    return this.counts('visit_note', NOTE_VISIBLE, patientIds, hidden);
  }

  vitalCounts(patientIds: readonly string[]): Promise<{ patientId: string; n: number | string }[]> {
    return this.counts('vital', null, patientIds);
  }

  /** Earlier visible values of the same test and patient, oldest first, for each of the given results; of `hidden` patients, NORMAL ones only. */
  async labHistory(resultIds: readonly string[], hidden: readonly string[] = []): Promise<HistoryPointRow[]> {
    if (resultIds.length === 0) return [];
    const params: unknown[] = [...resultIds];
    const notSensitive = notSensitiveOf(hidden, params, 'h.');
    return sql(
      this.db,
      `SELECT r.id AS "resultId", r.patient_id AS "patientId", h.value AS "value", h.resulted_at AS "resultedAt"
         FROM lab_result r
         JOIN lab_result h ON h.patient_id = r.patient_id AND h.loinc_code = r.loinc_code AND h.resulted_at < r.resulted_at
        WHERE r.id IN (${placeholders(resultIds.length)}) AND h.${RESULT_VISIBLE}${notSensitive ? ` AND ${notSensitive}` : ''}
        ORDER BY r.id, h.resulted_at, h.id`,
      params,
    );
  }

  /** Visible notes by id; drafts look missing. */
  async visitNotesByIds(ids: readonly string[]): Promise<VisitNoteRow[]> {
    if (ids.length === 0) return [];
    return sql(this.db, `SELECT ${NOTE_COLUMNS} FROM visit_note WHERE id IN (${placeholders(ids.length)}) AND ${NOTE_VISIBLE}`, [...ids]);
  }

  /** Visible notes written for the given appointments, newest first. */
  async visitNotesByAppointments(appointmentIds: readonly string[]): Promise<VisitNoteRow[]> {
    if (appointmentIds.length === 0) return [];
    return sql(
      this.db,
      `SELECT ${NOTE_COLUMNS} FROM visit_note
        WHERE appointment_id IN (${placeholders(appointmentIds.length)}) AND ${NOTE_VISIBLE}
        ORDER BY authored_at DESC, id DESC`,
      [...appointmentIds],
    );
  }

  conditionsOf(patientIds: readonly string[]): Promise<ConditionRow[]> {
    return selectRows(this.db, ConditionEntity, { in: ['patientId', patientIds] }, [['name', 'ASC'], ['id', 'ASC']]);
  }

  allergiesOf(patientIds: readonly string[]): Promise<AllergyRow[]> {
    return selectRows(this.db, AllergyEntity, { in: ['patientId', patientIds] }, [['substance', 'ASC'], ['id', 'ASC']]);
  }

  immunizationsOf(patientIds: readonly string[]): Promise<ImmunizationRow[]> {
    return selectRows(this.db, ImmunizationEntity, { in: ['patientId', patientIds] }, [['occurrenceDate', 'DESC'], ['id', 'DESC']]);
  }

  /** Topics linked to any of the (system, code) pairs, by title; one row per link. */
  async topicsByCodes(codes: readonly { system: CodeSystem; code: string }[]): Promise<CodedTopicRow[]> {
    if (codes.length === 0) return [];
    const bySystem = new Map<CodeSystem, string[]>();
    for (const c of codes) bySystem.set(c.system, [...(bySystem.get(c.system) ?? []), c.code]);
    const params: unknown[] = [];
    const clauses: string[] = [];
    for (const [system, list] of bySystem) {
      params.push(system);
      const systemParam = params.length;
      clauses.push(`(c.system = $${systemParam} AND c.code IN (${placeholders(list.length, systemParam + 1)}))`);
      params.push(...list);
    }
    return sql(
      this.db,
      `SELECT c.system AS "system", c.code AS "code", ${TOPIC_COLUMNS}
         FROM health_topic_code c JOIN health_topic t ON t.id = c.topic_id
        WHERE ${clauses.join(' OR ')}
        ORDER BY LOWER(t.title), t.id`,
      params,
    );
  }

  /**
   * Topics whose title or summary contains `needle` (already lower-cased),
   * or all topics when it is empty; by title, at most `limit`.
   */
  searchTopics(needle: string, limit: number): Promise<HealthTopicRow[]> {
    const pattern = `%${needle.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    return sql(
      this.db,
      `SELECT ${TOPIC_COLUMNS} FROM health_topic t
        WHERE LOWER(t.title) LIKE $1 ESCAPE '\\' OR LOWER(t.summary) LIKE $1 ESCAPE '\\'
        ORDER BY LOWER(t.title), t.id
        LIMIT $2`,
      [pattern, limit],
    );
  }

  /**
   * The first `take` rows per patient after the keyset position: ROW_NUMBER()
   * keeps it to one statement however many patients are asked for.
   */
  private async pages<T>(t: PagedTable, patientIds: readonly string[], after: Page['after'], take: number, hidden: readonly string[] = []): Promise<T[]> {
    if (patientIds.length === 0 || take <= 0) return [];
    const params: unknown[] = [...patientIds];
    const where = [`patient_id IN (${placeholders(patientIds.length)})`];
    if (t.visible) where.push(t.visible);
    const notSensitive = t.sensitive ? notSensitiveOf(hidden, params) : null;
    if (notSensitive) where.push(notSensitive);
    const keyset = keysetAfter({ limit: take, after }, t.sortColumn, 'id', (v) => `$${params.push(v)}`);
    if (keyset) where.push(keyset);
    params.push(take);
    return sql(
      this.db,
      `SELECT ${t.columns} FROM (
         SELECT ${t.table}.*, ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY ${t.sortColumn} DESC, id DESC) AS rn
           FROM ${t.table}
          WHERE ${where.join(' AND ')}
       ) ranked
       WHERE rn <= $${params.length}
       ORDER BY patient_id, ${t.sortColumn} DESC, id DESC`,
      params,
    );
  }

  private async counts(table: string, visible: string | null, patientIds: readonly string[], hidden: readonly string[] = []) {
    if (patientIds.length === 0) return [];
    const params: unknown[] = [...patientIds];
    const notSensitive = notSensitiveOf(hidden, params);
    return sql<{ patientId: string; n: number | string }>(
      this.db,
      `SELECT patient_id AS "patientId", COUNT(*) AS "n" FROM ${table}
        WHERE patient_id IN (${placeholders(patientIds.length)})${visible ? ` AND ${visible}` : ''}${notSensitive ? ` AND ${notSensitive}` : ''}
        GROUP BY patient_id`,
      params,
    );
  }
}
