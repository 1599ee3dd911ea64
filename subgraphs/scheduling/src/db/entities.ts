import { EntitySchema } from 'typeorm';

export type AppointmentStatus = 'BOOKED' | 'CANCELLED' | 'CHECKED_IN' | 'FULFILLED' | 'NO_SHOW';

export interface ClinicRow {
  id: string;
  name: string;
  /** IANA zone: slot times are chosen in the clinic's local time. */
  timeZone: string;
  phone: string;
  /** Comma-separated AppointmentType values, in display order. */
  appointmentTypes: string;
}

export interface SlotRow {
  id: string;
  clinicId: string;
  practitionerId: string;
  appointmentType: string;
  startAt: string;
  endAt: string;
}

export interface AppointmentRow {
  id: string;
  /** Null for appointments carried over from systems without slots. */
  slotId: string | null;
  patientId: string;
  practitionerId: string;
  clinicId: string;
  appointmentType: string;
  startAt: string;
  endAt: string;
  status: AppointmentStatus;
  reason: string | null;
  createdAt: string;
  cancelledAt: string | null;
  /** The account id of whoever cancelled. */
  cancelledBy: string | null;
  cancelReason: string | null;
  idempotencyKey: string | null;
}

const varchar = (length: number, extra: object = {}) => ({ type: 'varchar' as const, length, ...extra });

export const ClinicEntity = new EntitySchema<ClinicRow>({
  name: 'Clinic',
  tableName: 'clinic',
  columns: {
    id: varchar(64, { primary: true }),
    name: varchar(120),
    timeZone: varchar(64, { name: 'time_zone' }),
    phone: varchar(32),
    appointmentTypes: varchar(200, { name: 'appointment_types' }),
  },
});

export const SlotEntity = new EntitySchema<SlotRow>({
  name: 'Slot',
  tableName: 'slot',
  columns: {
    id: varchar(64, { primary: true }),
    clinicId: varchar(64, { name: 'clinic_id' }),
    practitionerId: varchar(64, { name: 'practitioner_id' }),
    appointmentType: varchar(24, { name: 'appointment_type' }),
    startAt: varchar(32, { name: 'start_at' }),
    endAt: varchar(32, { name: 'end_at' }),
  },
});

export const AppointmentEntity = new EntitySchema<AppointmentRow>({
  name: 'Appointment',
  tableName: 'appointment',
  columns: {
    id: varchar(64, { primary: true }),
    slotId: varchar(64, { name: 'slot_id', nullable: true }),
    patientId: varchar(64, { name: 'patient_id' }),
    practitionerId: varchar(64, { name: 'practitioner_id' }),
    clinicId: varchar(64, { name: 'clinic_id' }),
    appointmentType: varchar(24, { name: 'appointment_type' }),
    startAt: varchar(32, { name: 'start_at' }),
    endAt: varchar(32, { name: 'end_at' }),
    status: varchar(16),
    reason: varchar(500, { nullable: true }),
    createdAt: varchar(32, { name: 'created_at' }),
    cancelledAt: varchar(32, { name: 'cancelled_at', nullable: true }),
    cancelledBy: varchar(64, { name: 'cancelled_by', nullable: true }),
    cancelReason: varchar(500, { name: 'cancel_reason', nullable: true }),
    idempotencyKey: varchar(128, { name: 'idempotency_key', nullable: true }),
  },
});

export const entities = [ClinicEntity, SlotEntity, AppointmentEntity];
