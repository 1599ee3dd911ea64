/**
 * Test factories: rows with unique ids written straight to a scheduling
 * database, so each test builds its own world (tests only).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEMO } from '@portal/demo';
import { AppointmentEntity, ClinicEntity, SlotEntity, type AppointmentRow, type AppointmentStatus, type ClinicRow, type SlotRow } from './db/entities';

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 13)}`;

const MINUTE = 60_000;
/** An instant `days` days (and `minutes` minutes) from now. */
export const fromNow = (days: number, minutes = 0) => new Date(Date.now() + days * 86_400_000 + minutes * MINUTE);

export interface SlotFields {
  clinicId?: string;
  practitionerId?: string;
  appointmentType?: string;
  start: Date;
  minutes?: number;
}

export interface AppointmentFields {
  patientId: string;
  practitionerId?: string;
  clinicId?: string;
  appointmentType?: string;
  start: Date;
  minutes?: number;
  status?: AppointmentStatus;
  slotId?: string | null;
}

export function schedulingFactory(db: DataSource) {
  return {
    async clinic(fields: Partial<ClinicRow> = {}): Promise<ClinicRow> {
      const row: ClinicRow = { id: uniqueId('cl'), name: 'Test Clinic', timeZone: 'America/New_York', phone: '(555) 555-0100', appointmentTypes: 'PRIMARY_CARE,FOLLOW_UP', ...fields };
      await db.getRepository(ClinicEntity).insert(row);
      return row;
    },

    async slot(f: SlotFields): Promise<SlotRow> {
      const row: SlotRow = {
        id: uniqueId('sl'),
        clinicId: f.clinicId ?? DEMO.familyHealthClinic,
        practitionerId: f.practitionerId ?? DEMO.alex,
        appointmentType: f.appointmentType ?? 'PRIMARY_CARE',
        startAt: f.start.toISOString(),
        endAt: new Date(f.start.getTime() + (f.minutes ?? 30) * MINUTE).toISOString(),
      };
      await db.getRepository(SlotEntity).insert(row);
      return row;
    },

    /** An appointment written directly, in any status or time (a booking would refuse the past). */
    async appointment(f: AppointmentFields): Promise<AppointmentRow> {
      const row: AppointmentRow = {
        id: uniqueId('ap'),
        slotId: f.slotId ?? null,
        patientId: f.patientId,
        practitionerId: f.practitionerId ?? DEMO.alex,
        clinicId: f.clinicId ?? DEMO.familyHealthClinic,
        appointmentType: f.appointmentType ?? 'PRIMARY_CARE',
        startAt: f.start.toISOString(),
        endAt: new Date(f.start.getTime() + (f.minutes ?? 30) * MINUTE).toISOString(),
        status: f.status ?? 'BOOKED',
        reason: null,
        createdAt: new Date().toISOString(),
        cancelledAt: null,
        cancelledBy: null,
        cancelReason: null,
        idempotencyKey: null,
      };
      await db.getRepository(AppointmentEntity).insert(row);
      return row;
    },
  };
}

export type SchedulingFactory = ReturnType<typeof schedulingFactory>;
