import type { Connection } from '@portal/kit';
import type { AppointmentRow, ClinicRow, SlotRow } from '../db/entities';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toClinic = (c: ClinicRow) => ({
  id: c.id,
  name: c.name,
  timeZone: c.timeZone,
  phone: c.phone,
  appointmentTypes: c.appointmentTypes.split(',').filter(Boolean),
});

export const toAppointment = (a: AppointmentRow) => ({
  id: a.id,
  start: new Date(a.startAt),
  end: new Date(a.endAt),
  status: a.status,
  appointmentType: a.appointmentType,
  reason: a.reason,
  clinicId: a.clinicId,
  practitioner: { id: a.practitionerId },
  patient: { id: a.patientId },
  cancellation: a.cancelledAt ? { reason: a.cancelReason, cancelledAt: new Date(a.cancelledAt), cancelledBy: a.cancelledBy ?? '' } : null,
});

export type ClinicModel = ReturnType<typeof toClinic>;
export type AppointmentModel = ReturnType<typeof toAppointment>;
/** A page of appointments; `totalCount` is counted only when asked for. */
export type AppointmentConnectionModel = Connection<AppointmentModel>;

export const toSlot = (s: SlotRow) => ({
  id: s.id,
  start: new Date(s.startAt),
  end: new Date(s.endAt),
  appointmentType: s.appointmentType,
  clinicId: s.clinicId,
  practitioner: { id: s.practitionerId },
});

export type SlotModel = ReturnType<typeof toSlot>;

/** Identity's entities as this subgraph knows them: their key. */
export type PatientRef = { id: string };
export type PractitionerRef = { id: string };
