import { In, type DataSource } from 'typeorm';
import { placeholders, sql } from '@portal/kit';
import { AppointmentEntity, ClinicEntity, type AppointmentRow, type ClinicRow } from './entities';

/** Columns of `appointment` under the names of AppointmentRow; `a` is the table alias. */
const APPOINTMENT_COLUMNS = `a.id AS "id", a.slot_id AS "slotId", a.patient_id AS "patientId", a.practitioner_id AS "practitionerId",
  a.clinic_id AS "clinicId", a.appointment_type AS "appointmentType", a.start_at AS "startAt", a.end_at AS "endAt",
  a.status AS "status", a.reason AS "reason", a.created_at AS "createdAt", a.cancelled_at AS "cancelledAt",
  a.cancelled_by AS "cancelledBy", a.cancel_reason AS "cancelReason", a.idempotency_key AS "idempotencyKey"`;

/** The same columns read back from a derived table aliased `w`. */
const OUTER_COLUMNS = `w."id", w."slotId", w."patientId", w."practitionerId", w."clinicId", w."appointmentType", w."startAt", w."endAt",
  w."status", w."reason", w."createdAt", w."cancelledAt", w."cancelledBy", w."cancelReason", w."idempotencyKey"`;

/** Where a newest-first page continues: strictly after (older than) this appointment. */
export interface AppointmentKeyset {
  startAt: string;
  id: string;
}

/** Every SQL statement of the scheduling subgraph. */
export class SchedulingStore {
  constructor(private readonly db: DataSource) {}

  clinics(): Promise<ClinicRow[]> {
    return this.db.getRepository(ClinicEntity).find({ order: { name: 'ASC', id: 'ASC' } });
  }

  clinicsByIds(ids: readonly string[]): Promise<ClinicRow[]> {
    return this.db.getRepository(ClinicEntity).findBy({ id: In([...ids]) });
  }

  appointmentsByIds(ids: readonly string[]): Promise<AppointmentRow[]> {
    return this.db.getRepository(AppointmentEntity).findBy({ id: In([...ids]) });
  }

  /**
   * For each patient, up to `limit` booked appointments that end after `now`,
   * soonest first: one statement for any number of patients.
   */
  async upcomingOf(patientIds: readonly string[], limit: number, now: Date): Promise<AppointmentRow[]> {
    if (patientIds.length === 0 || limit === 0) return [];
    return sql<AppointmentRow>(
      this.db,
      `SELECT ${OUTER_COLUMNS} FROM (
         SELECT ${APPOINTMENT_COLUMNS},
                ROW_NUMBER() OVER (PARTITION BY a.patient_id ORDER BY a.start_at, a.id) AS rn
           FROM appointment a
          WHERE a.patient_id IN (${placeholders(patientIds.length, 3)})
            AND a.status = 'BOOKED' AND a.end_at > $1
       ) w
       WHERE w.rn <= $2
       ORDER BY w."patientId", w."startAt", w."id"`,
      [now.toISOString(), limit, ...patientIds],
    );
  }

  /**
   * For each patient, up to `limit` appointments newest first (by start, then
   * id), continuing after `after` when given: one statement for any number of patients.
   */
  async appointmentsOf(patientIds: readonly string[], limit: number, after: AppointmentKeyset | null): Promise<AppointmentRow[]> {
    if (patientIds.length === 0 || limit === 0) return [];
    const params: unknown[] = [limit];
    let keyset = '';
    if (after) {
      params.push(after.startAt, after.id);
      keyset = 'AND (a.start_at < $2 OR (a.start_at = $2 AND a.id < $3))';
    }
    const first = params.length + 1;
    params.push(...patientIds);
    return sql<AppointmentRow>(
      this.db,
      `SELECT ${OUTER_COLUMNS} FROM (
         SELECT ${APPOINTMENT_COLUMNS},
                ROW_NUMBER() OVER (PARTITION BY a.patient_id ORDER BY a.start_at DESC, a.id DESC) AS rn
           FROM appointment a
          WHERE a.patient_id IN (${placeholders(patientIds.length, first)}) ${keyset}
       ) w
       WHERE w.rn <= $1
       ORDER BY w."patientId", w."startAt" DESC, w."id" DESC`,
      params,
    );
  }

  /** How many appointments each patient has, in any status. */
  async appointmentCounts(patientIds: readonly string[]): Promise<Map<string, number>> {
    if (patientIds.length === 0) return new Map();
    const rows = await sql<{ patientId: string; total: number | string }>(
      this.db,
      `SELECT patient_id AS "patientId", COUNT(*) AS "total" FROM appointment
        WHERE patient_id IN (${placeholders(patientIds.length)}) GROUP BY patient_id`,
      [...patientIds],
    );
    // PostgreSQL returns COUNT(*) as a bigint string.
    return new Map(rows.map((r) => [r.patientId, Number(r.total)]));
  }
}
