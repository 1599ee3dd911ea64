import { type DataSource, type EntityManager } from 'typeorm';
import { execute, isPostgres, isUniqueViolation, keysetAfter, placeholders, PortalError, selectRows, sql, type Keyset, type UniqueIndex } from '@portal/kit';
import { ErrorCode } from '../errors';
import { AppointmentEntity, ClinicEntity, type AppointmentRow, type AppointmentStatus, type ClinicRow, type SlotRow } from './entities';

/** Columns of `appointment` under the names of AppointmentRow; `a` is the table alias. */
const APPOINTMENT_COLUMNS = `a.id AS "id", a.slot_id AS "slotId", a.patient_id AS "patientId", a.practitioner_id AS "practitionerId",
  a.clinic_id AS "clinicId", a.appointment_type AS "appointmentType", a.start_at AS "startAt", a.end_at AS "endAt",
  a.status AS "status", a.reason AS "reason", a.created_at AS "createdAt", a.cancelled_at AS "cancelledAt",
  a.cancelled_by AS "cancelledBy", a.cancel_reason AS "cancelReason", a.idempotency_key AS "idempotencyKey"`;

/** The same columns read back from a derived table aliased `w`. */
const OUTER_COLUMNS = `w."id", w."slotId", w."patientId", w."practitionerId", w."clinicId", w."appointmentType", w."startAt", w."endAt",
  w."status", w."reason", w."createdAt", w."cancelledAt", w."cancelledBy", w."cancelReason", w."idempotencyKey"`;

/** The partial unique indexes that settle races between bookings (migration 1764000000200). */
const SLOT_HELD: UniqueIndex = { name: 'appointment_slot_held_unique', column: 'appointment.slot_id' };
const PATIENT_KEY: UniqueIndex = { name: 'appointment_patient_idempotency_unique', column: 'appointment.idempotency_key' };

const SLOT_COLUMNS = `s.id AS "id", s.clinic_id AS "clinicId", s.practitioner_id AS "practitionerId",
  s.appointment_type AS "appointmentType", s.start_at AS "startAt", s.end_at AS "endAt"`;

export interface Cancellation {
  cancelledAt: string;
  /** The account id of whoever cancelled. */
  cancelledBy: string;
  reason: string | null;
}

/**
 * Every SQL statement of the scheduling subgraph. Built on the data source for
 * reads, or on a transaction's entity manager for a booking's statements.
 */
export class SchedulingStore {
  constructor(private readonly db: DataSource | EntityManager) {}

  /** The same statements inside transaction `tx`. */
  within(tx: EntityManager): SchedulingStore {
    return new SchedulingStore(tx);
  }

  get postgres(): boolean {
    return isPostgres(this.db);
  }

  clinics(): Promise<ClinicRow[]> {
    return this.db.getRepository(ClinicEntity).find({ order: { name: 'ASC', id: 'ASC' } });
  }

  clinicsByIds(ids: readonly string[]): Promise<ClinicRow[]> {
    return selectRows(this.db, ClinicEntity, { in: ['id', ids] });
  }

  appointmentsByIds(ids: readonly string[]): Promise<AppointmentRow[]> {
    return selectRows(this.db, AppointmentEntity, { in: ['id', ids] });
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
  async appointmentsOf(patientIds: readonly string[], limit: number, after: Keyset | null): Promise<AppointmentRow[]> {
    if (patientIds.length === 0 || limit === 0) return [];
    const params: unknown[] = [limit];
    const after_ = keysetAfter({ limit, after }, 'a.start_at', 'a.id', (v) => `$${params.push(v)}`);
    const keyset = after_ ? `AND ${after_}` : '';
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

  // ---------------------------------------------------------------- slots

  async slotById(id: string): Promise<SlotRow | null> {
    const [row] = await sql<SlotRow>(this.db, `SELECT ${SLOT_COLUMNS} FROM slot s WHERE s.id = $1`, [id]);
    return row ?? null;
  }

  /**
   * Slots of a clinic and type starting in [from, to) that no appointment but a
   * cancelled one holds, soonest first. The NOT EXISTS reads the partial unique
   * index that also guards bookings, so "free" here and "free" there agree.
   */
  freeSlots(clinicId: string, appointmentType: string, from: string, to: string): Promise<SlotRow[]> {
    return sql<SlotRow>(
      this.db,
      `SELECT ${SLOT_COLUMNS} FROM slot s
        WHERE s.clinic_id = $1 AND s.appointment_type = $2 AND s.start_at >= $3 AND s.start_at < $4
          AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = s.id AND a.status <> 'CANCELLED')
        ORDER BY s.start_at, s.id`,
      [clinicId, appointmentType, from, to],
    );
  }

  async slotHeld(slotId: string): Promise<boolean> {
    const rows = await sql(this.db, `SELECT 1 AS "held" FROM appointment WHERE slot_id = $1 AND status <> 'CANCELLED'`, [slotId]);
    return rows.length > 0;
  }

  // ---------------------------------------------------------------- booking

  /**
   * Serialises one patient's booking transactions across every instance on
   * this PostgreSQL database until the transaction ends (a transaction-scoped
   * advisory lock), so an overlap check and the insert it allows cannot
   * interleave with another booking of the same patient. Only inside a transaction.
   */
  async lockPatient(patientId: string): Promise<void> {
    if (this.postgres) await sql(this.db, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`scheduling.patient:${patientId}`]);
  }

  async appointmentById(id: string): Promise<AppointmentRow | null> {
    const [row] = await sql<AppointmentRow>(this.db, `SELECT ${APPOINTMENT_COLUMNS} FROM appointment a WHERE a.id = $1`, [id]);
    return row ?? null;
  }

  async appointmentByIdempotencyKey(patientId: string, key: string): Promise<AppointmentRow | null> {
    const [row] = await sql<AppointmentRow>(
      this.db,
      `SELECT ${APPOINTMENT_COLUMNS} FROM appointment a WHERE a.patient_id = $1 AND a.idempotency_key = $2`,
      [patientId, key],
    );
    return row ?? null;
  }

  /** Whether the patient holds an appointment (any but a cancelled one) overlapping [start, end), other than `exceptId`. */
  async hasOverlap(patientId: string, start: string, end: string, exceptId: string | null): Promise<boolean> {
    const rows = await sql(
      this.db,
      `SELECT 1 AS "overlaps" FROM appointment
        WHERE patient_id = $1 AND status <> 'CANCELLED' AND start_at < $3 AND end_at > $2 AND id <> $4`,
      [patientId, start, end, exceptId ?? ''],
    );
    return rows.length > 0;
  }

  /**
   * Inserts a booking. The partial unique index on held slots refuses a second
   * holder whichever instance tries: that refusal is SLOT_UNAVAILABLE, not a failure.
   */
  async insertAppointment(row: AppointmentRow): Promise<void> {
    try {
      await this.db.getRepository(AppointmentEntity).insert(row);
    } catch (e) {
      if (isUniqueViolation(e, SLOT_HELD)) throw slotUnavailable();
      if (isUniqueViolation(e, PATIENT_KEY)) throw new IdempotencyKeyTaken();
      throw e;
    }
  }

  /** Cancels a booked appointment that has not started by `now`; returns whether it did. */
  async cancel(id: string, c: Cancellation, now: string): Promise<boolean> {
    const changed = await execute(
      this.db,
      `UPDATE appointment SET status = 'CANCELLED', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4
        WHERE id = $1 AND status = 'BOOKED' AND start_at > $5`,
      [id, c.cancelledAt, c.cancelledBy, c.reason, now],
    );
    return changed === 1;
  }

  /** Moves an appointment from status `from` to `to`; false when it is no longer in `from`. */
  async setStatus(id: string, from: AppointmentStatus, to: AppointmentStatus): Promise<boolean> {
    return (await execute(this.db, 'UPDATE appointment SET status = $3 WHERE id = $1 AND status = $2', [id, from, to])) === 1;
  }

  // ---------------------------------------------------------------- practitioners

  /** The practitioners' appointments (all but cancelled ones) starting in [from, to), soonest first. */
  async scheduleOf(practitionerIds: readonly string[], from: string, to: string): Promise<AppointmentRow[]> {
    if (practitionerIds.length === 0) return [];
    return sql<AppointmentRow>(
      this.db,
      `SELECT ${APPOINTMENT_COLUMNS} FROM appointment a
        WHERE a.practitioner_id IN (${placeholders(practitionerIds.length, 3)})
          AND a.start_at >= $1 AND a.start_at < $2 AND a.status <> 'CANCELLED'
        ORDER BY a.practitioner_id, a.start_at, a.id`,
      [from, to, ...practitionerIds],
    );
  }
}

export const slotUnavailable = () =>
  new PortalError(ErrorCode.SLOT_UNAVAILABLE, 'That slot has just been booked by someone else. Choose another slot.');

/** A concurrent booking of the same patient stored this idempotency key first. */
export class IdempotencyKeyTaken extends Error {}
