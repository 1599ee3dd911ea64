import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import { DEMO } from '@portal/kit';
import { AppointmentEntity, ClinicEntity, SlotEntity, type AppointmentRow, type ClinicRow, type SlotRow } from './db/entities';
import { addDays, isWeekday, localDate, zonedInstant } from './services/clinicTime';

const JANE_ACCOUNT = 'ac-jane-doe';
const SLOT_MINUTES = 30;
/** Free PRIMARY_CARE mornings and FOLLOW_UP early afternoons, clinic-local. */
const PRIMARY_CARE_TIMES = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30'];
const FOLLOW_UP_TIMES = ['13:00', '13:30', '14:00'];
const SLOT_DAYS = 70;

export const CLINICS: ClinicRow[] = [
  { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0142', appointmentTypes: 'PRIMARY_CARE,FOLLOW_UP,IMMUNIZATION' },
  { id: 'cl-eye', name: 'Eye Clinic', timeZone: 'America/Chicago', phone: '(210) 555-0187', appointmentTypes: 'OPTOMETRY' },
  { id: 'cl-behavioral-health', name: 'Behavioral Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0163', appointmentTypes: 'BEHAVIORAL_HEALTH' },
];

const FAMILY_HEALTH_ZONE = CLINICS[0].timeZone;

/** A slot of Alex Kim at Family Health Clinic on a clinic-local date and time. */
function familyHealthSlot(date: string, time: string, appointmentType: string): SlotRow {
  const [h, m] = time.split(':').map(Number);
  const start = zonedInstant(date, h, m, FAMILY_HEALTH_ZONE);
  return {
    id: `sl-fh-${date}-${time.replace(':', '')}`,
    clinicId: DEMO.familyHealthClinic,
    practitionerId: DEMO.alex,
    appointmentType,
    startAt: start.toISOString(),
    endAt: new Date(start.getTime() + SLOT_MINUTES * 60_000).toISOString(),
  };
}

/** The first weekday at or after (step 1) or at or before (step -1) `date`. */
function weekdayFrom(date: string, step: 1 | -1): string {
  let d = date;
  while (!isWeekday(d)) d = addDays(d, step);
  return d;
}

const daysBefore = (instant: string, days: number) => new Date(Date.parse(instant) - days * 86_400_000).toISOString();

function appointmentOn(slot: SlotRow, patientId: string, fields: Partial<AppointmentRow> & Pick<AppointmentRow, 'id' | 'status'>): AppointmentRow {
  return {
    slotId: slot.id,
    patientId,
    practitionerId: slot.practitionerId,
    clinicId: slot.clinicId,
    appointmentType: slot.appointmentType,
    startAt: slot.startAt,
    endAt: slot.endAt,
    reason: null,
    createdAt: daysBefore(slot.startAt, 14),
    cancelledAt: null,
    cancelledBy: null,
    cancelReason: null,
    idempotencyKey: null,
    ...fields,
  };
}

async function insertChunked<T extends ObjectLiteral>(tx: EntityManager, entity: EntitySchema<T>, rows: T[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await tx.getRepository(entity).insert(rows.slice(i, i + 200));
}

async function ensureClinics(tx: EntityManager): Promise<void> {
  const existing = new Set((await tx.getRepository(ClinicEntity).find()).map((c) => c.id));
  const missing = CLINICS.filter((c) => !existing.has(c.id));
  if (missing.length) await tx.getRepository(ClinicEntity).insert(missing);
}

/**
 * The demo clinics, Alex Kim's free slots for the next 70 days and the demo
 * cast's appointments, all relative to `now`. Idempotent: does nothing when already seeded.
 */
export async function seedDemo(db: DataSource, now: Date = new Date()): Promise<void> {
  if (await db.getRepository(AppointmentEntity).findOneBy({ id: 'ap-jane-past-1' })) return;
  const today = localDate(now, FAMILY_HEALTH_ZONE);
  const nowIso = now.toISOString();

  const free: SlotRow[] = [];
  for (let i = 0; i < SLOT_DAYS; i++) {
    const date = addDays(today, i);
    if (!isWeekday(date)) continue;
    for (const t of PRIMARY_CARE_TIMES) free.push(familyHealthSlot(date, t, 'PRIMARY_CARE'));
    for (const t of FOLLOW_UP_TIMES) free.push(familyHealthSlot(date, t, 'FOLLOW_UP'));
  }
  const slots = free.filter((s) => s.startAt > nowIso);
  const futureSlot = (days: number, time: string) => {
    const id = familyHealthSlot(weekdayFrom(addDays(today, days), 1), time, 'PRIMARY_CARE').id;
    return slots.find((s) => s.id === id)!;
  };
  // Past slots exist only for the appointments that were booked on them.
  const pastSlot = (days: number, time: string, type: string) => {
    const slot = familyHealthSlot(weekdayFrom(addDays(today, -days), -1), time, type);
    slots.push(slot);
    return slot;
  };

  const booked = { status: 'BOOKED' as const, createdAt: daysBefore(nowIso, 2) };
  const past1 = pastSlot(20, '09:30', 'PRIMARY_CARE');
  const past2 = pastSlot(120, '13:00', 'FOLLOW_UP');
  const cancelled = pastSlot(45, '14:30', 'IMMUNIZATION');
  const appointments: AppointmentRow[] = [
    appointmentOn(futureSlot(5, '10:00'), DEMO.jane, { id: 'ap-jane-upcoming-1', ...booked, reason: 'Annual physical' }),
    appointmentOn(futureSlot(12, '09:30'), DEMO.jane, { id: 'ap-jane-upcoming-2', ...booked, reason: 'Recheck blood pressure' }),
    appointmentOn(past1, DEMO.jane, { id: 'ap-jane-past-1', status: 'FULFILLED', reason: 'Cough for two weeks' }),
    appointmentOn(past2, DEMO.jane, { id: 'ap-jane-past-2', status: 'FULFILLED', reason: 'Blood pressure follow-up' }),
    appointmentOn(cancelled, DEMO.jane, {
      id: 'ap-jane-cancelled-1',
      status: 'CANCELLED',
      reason: 'Flu shot',
      cancelledAt: daysBefore(cancelled.startAt, 3),
      cancelledBy: JANE_ACCOUNT,
      cancelReason: 'Schedule conflict',
    }),
    appointmentOn(futureSlot(8, '11:00'), DEMO.john, { id: 'ap-john-upcoming-1', ...booked, reason: 'Knee pain' }),
    // Carried over from before MHS GENESIS: no slot. 14:00Z and 15:00Z are 10:00 and 11:00 in New York (EDT).
    legacy('ap-john-2010', DEMO.john, '2010-03-15T14:00:00.000Z', 'PRIMARY_CARE', 'Pre-deployment physical'),
    legacy('ap-john-2021', DEMO.john, '2021-09-20T15:00:00.000Z', 'FOLLOW_UP', 'Hearing follow-up'),
  ];

  await db.transaction(async (tx) => {
    await ensureClinics(tx);
    await insertChunked(tx, SlotEntity, slots);
    await insertChunked(tx, AppointmentEntity, appointments);
  });
}

function legacy(id: string, patientId: string, startAt: string, appointmentType: string, reason: string): AppointmentRow {
  return {
    id,
    slotId: null,
    patientId,
    practitionerId: DEMO.alex,
    clinicId: DEMO.familyHealthClinic,
    appointmentType,
    startAt,
    endAt: new Date(Date.parse(startAt) + SLOT_MINUTES * 60_000).toISOString(),
    status: 'FULFILLED',
    reason,
    createdAt: daysBefore(startAt, 14),
    cancelledAt: null,
    cancelledBy: null,
    cancelReason: null,
    idempotencyKey: null,
  };
}

export interface ScalePatient {
  patientId: string;
  /** Rows per list: every appointment is upcoming, so both lists get `count`. */
  count: number;
}

/**
 * A synthetic patient with `count` booked future appointments with Alex Kim at
 * Family Health Clinic (afternoons, clinic-local), for batching tests and benchmarks.
 * They hold no slots, so several scale patients never compete with the demo's free slots.
 */
export async function seedScalePatient(db: DataSource, s: ScalePatient, now: Date = new Date()): Promise<void> {
  const today = localDate(now, FAMILY_HEALTH_ZONE);
  const times = ['15:00', '15:30', '16:00', '16:30'];
  const rows: AppointmentRow[] = [];
  for (let day = 1; rows.length < s.count; day++) {
    const date = addDays(today, day);
    if (!isWeekday(date)) continue;
    for (const t of times) {
      if (rows.length >= s.count) break;
      const slot = familyHealthSlot(date, t, 'PRIMARY_CARE');
      rows.push(appointmentOn(slot, s.patientId, { id: randomUUID(), slotId: null, status: 'BOOKED', createdAt: now.toISOString(), reason: 'Synthetic visit' }));
    }
  }
  await db.transaction(async (tx) => {
    await ensureClinics(tx);
    await insertChunked(tx, AppointmentEntity, rows);
  });
}
