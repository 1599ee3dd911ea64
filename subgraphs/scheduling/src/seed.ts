import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import { sql } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { AppointmentEntity, ClinicEntity, SlotEntity, type AppointmentRow, type ClinicRow, type SlotRow } from './db/entities';
import { addDays, isWeekday, localDate, zonedInstant } from './services/clinicTime';

const JANE_ACCOUNT = 'ac-jane-doe';
const SLOT_MINUTES = 30;
/** How far ahead the seed keeps free slots: at least 60 days whatever day it runs. */
const SLOT_DAYS = 70;

/** Practitioners of the other clinics; identity's demo seed holds them too. */
export const OPTOMETRIST = DEMO.morgan;
export const PSYCHOLOGIST = DEMO.riley;

export const CLINICS: ClinicRow[] = [
  { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0142', appointmentTypes: 'PRIMARY_CARE,FOLLOW_UP,IMMUNIZATION' },
  { id: 'cl-eye', name: 'Eye Clinic', timeZone: 'America/Chicago', phone: '(210) 555-0187', appointmentTypes: 'OPTOMETRY' },
  { id: 'cl-behavioral-health', name: 'Behavioral Health Clinic', timeZone: 'America/New_York', phone: '(757) 555-0163', appointmentTypes: 'BEHAVIORAL_HEALTH' },
];

const FAMILY_HEALTH_ZONE = CLINICS[0].timeZone;

/** A weekly pattern of free slots, in the clinic's local time. */
interface SlotPattern {
  prefix: string;
  clinic: ClinicRow;
  practitionerId: string;
  appointmentType: string;
  /** ISO weekdays, 1 = Monday. */
  weekdays: number[];
  times: string[];
  minutes: number;
}

/**
 * Alex Kim at Family Health Clinic: PRIMARY_CARE mornings, FOLLOW_UP early
 * afternoons and an IMMUNIZATION slot every weekday; beside them the Eye Clinic
 * and the Behavioral Health Clinic a few days a week. Afternoons from 15:00 stay
 * free of slots: synthetic scale patients hold Alex's appointments there.
 */
const PATTERNS: SlotPattern[] = [
  { prefix: 'sl-fh', clinic: CLINICS[0], practitionerId: DEMO.alex, appointmentType: 'PRIMARY_CARE', weekdays: [1, 2, 3, 4, 5], times: ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30'], minutes: SLOT_MINUTES },
  { prefix: 'sl-fh', clinic: CLINICS[0], practitionerId: DEMO.alex, appointmentType: 'FOLLOW_UP', weekdays: [1, 2, 3, 4, 5], times: ['13:00', '13:30', '14:00'], minutes: SLOT_MINUTES },
  { prefix: 'sl-fh', clinic: CLINICS[0], practitionerId: DEMO.alex, appointmentType: 'IMMUNIZATION', weekdays: [1, 2, 3, 4, 5], times: ['14:30'], minutes: SLOT_MINUTES },
  { prefix: 'sl-eye', clinic: CLINICS[1], practitionerId: OPTOMETRIST, appointmentType: 'OPTOMETRY', weekdays: [2, 4], times: ['08:00', '08:40', '09:20', '10:00', '10:40'], minutes: 40 },
  { prefix: 'sl-bh', clinic: CLINICS[2], practitionerId: PSYCHOLOGIST, appointmentType: 'BEHAVIORAL_HEALTH', weekdays: [1, 3, 5], times: ['09:00', '10:00', '11:00', '13:00'], minutes: 50 },
];

const isoWeekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay() || 7;

function slotAt(p: Pick<SlotPattern, 'prefix' | 'clinic' | 'practitionerId' | 'appointmentType' | 'minutes'>, date: string, time: string): SlotRow {
  const [h, m] = time.split(':').map(Number);
  const start = zonedInstant(date, h, m, p.clinic.timeZone);
  return {
    id: `${p.prefix}-${date}-${time.replace(':', '')}`,
    clinicId: p.clinic.id,
    practitionerId: p.practitionerId,
    appointmentType: p.appointmentType,
    startAt: start.toISOString(),
    endAt: new Date(start.getTime() + p.minutes * 60_000).toISOString(),
  };
}

/** A slot of Alex Kim at Family Health Clinic on a clinic-local date and time. */
function familyHealthSlot(date: string, time: string, appointmentType: string): SlotRow {
  return slotAt({ prefix: 'sl-fh', clinic: CLINICS[0], practitionerId: DEMO.alex, appointmentType, minutes: SLOT_MINUTES }, date, time);
}

/** Every slot of the patterns that starts after `now` and within SLOT_DAYS of it. */
function futureSlots(now: Date): SlotRow[] {
  const nowIso = now.toISOString();
  const slots: SlotRow[] = [];
  for (const p of PATTERNS) {
    const today = localDate(now, p.clinic.timeZone);
    for (let i = 0; i < SLOT_DAYS; i++) {
      const date = addDays(today, i);
      if (!p.weekdays.includes(isoWeekday(date))) continue;
      for (const t of p.times) slots.push(slotAt(p, date, t));
    }
  }
  return slots.filter((s) => s.startAt > nowIso);
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

/** Inserts the future slots that are not there yet; returns them all. */
async function stockSlots(tx: EntityManager, now: Date): Promise<SlotRow[]> {
  const slots = futureSlots(now);
  const rows = await sql<{ id: string }>(tx, 'SELECT id FROM slot WHERE start_at > $1', [now.toISOString()]);
  const existing = new Set(rows.map((r) => r.id));
  await insertChunked(tx, SlotEntity, slots.filter((s) => !existing.has(s.id)));
  return slots;
}

/**
 * The demo clinics, free slots for the next 70 days and the demo cast's
 * appointments, all relative to `now`. Run again, it only adds the slots of
 * days that have come into the 70-day horizon since, so the clinics stay
 * stocked; running it twice on one day changes nothing.
 */
export async function seedDemo(db: DataSource, now: Date = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    await ensureClinics(tx);
    const stocked = await stockSlots(tx, now);
    if (!(await tx.getRepository(AppointmentEntity).findOneBy({ id: 'ap-jane-past-1' }))) await seedAppointments(tx, now, stocked);
    // Added later than Jane's: a database seeded before gets them on its next run.
    if (!(await tx.getRepository(AppointmentEntity).findOneBy({ id: 'ap-emma-past-1' }))) await seedChildrenAppointments(tx, now, stocked);
  });
}

/**
 * Jane's children, whose records Jane sees as their parent (proxy access):
 * Emma (12) a past well-child visit and an upcoming immunization, Liam (15) a
 * past sports physical and an upcoming follow-up.
 */
async function seedChildrenAppointments(tx: EntityManager, now: Date, stocked: SlotRow[]): Promise<void> {
  const today = localDate(now, FAMILY_HEALTH_ZONE);
  const nowIso = now.toISOString();
  const futureSlot = (days: number, time: string, type: string) => {
    const id = familyHealthSlot(weekdayFrom(addDays(today, days), 1), time, type).id;
    return stocked.find((s) => s.id === id)!;
  };
  const pastSlots = [
    familyHealthSlot(weekdayFrom(addDays(today, -30), -1), '10:30', 'PRIMARY_CARE'),
    familyHealthSlot(weekdayFrom(addDays(today, -60), -1), '11:00', 'PRIMARY_CARE'),
  ];
  const booked = { status: 'BOOKED' as const, createdAt: daysBefore(nowIso, 3) };
  const appointments: AppointmentRow[] = [
    appointmentOn(pastSlots[0], DEMO.emma, { id: 'ap-emma-past-1', status: 'FULFILLED', reason: 'Well-child visit' }),
    appointmentOn(futureSlot(9, '14:30', 'IMMUNIZATION'), DEMO.emma, { id: 'ap-emma-upcoming-1', ...booked, reason: 'HPV vaccine, second dose' }),
    appointmentOn(pastSlots[1], DEMO.liam, { id: 'ap-liam-past-1', status: 'FULFILLED', reason: 'Sports physical' }),
    appointmentOn(futureSlot(15, '13:30', 'FOLLOW_UP'), DEMO.liam, { id: 'ap-liam-upcoming-1', ...booked, reason: 'Ankle sprain follow-up' }),
  ];
  await insertChunked(tx, SlotEntity, pastSlots);
  await insertChunked(tx, AppointmentEntity, appointments);
}

async function seedAppointments(tx: EntityManager, now: Date, stocked: SlotRow[]): Promise<void> {
  const today = localDate(now, FAMILY_HEALTH_ZONE);
  const nowIso = now.toISOString();
  const futureSlot = (days: number, time: string) => {
    const id = familyHealthSlot(weekdayFrom(addDays(today, days), 1), time, 'PRIMARY_CARE').id;
    return stocked.find((s) => s.id === id)!;
  };
  // Past slots exist only for the appointments that were booked on them.
  const pastSlots: SlotRow[] = [];
  const pastSlot = (days: number, time: string, type: string) => {
    const slot = familyHealthSlot(weekdayFrom(addDays(today, -days), -1), time, type);
    pastSlots.push(slot);
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
  await insertChunked(tx, SlotEntity, pastSlots);
  await insertChunked(tx, AppointmentEntity, appointments);
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
