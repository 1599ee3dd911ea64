import type { DataSource } from 'typeorm';
import { badInput, notFound, parseId, PortalError, runChange, type Access, type AuditTrail } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { AppointmentRow, AppointmentStatus } from '../db/entities';
import type { SchedulingStore } from '../db/store';
import type { SchedulingLoaders } from '../loaders';
import { policy } from '../policy';
import { parseRange, STAFF_STATUSES, statusChangeRefusedBecause } from './rules';

export interface StatusInput {
  appointmentId: string;
  status: AppointmentStatus;
}

/**
 * Responsible for a practitioner's own work: their schedule and the status of
 * their appointments. The right comes from being the appointment's
 * practitioner, not from a care team (see `../policy.ts`).
 */
export class PracticeService {
  constructor(
    private readonly access: Access,
    private readonly audit: AuditTrail,
    private readonly loaders: SchedulingLoaders,
    private readonly store: SchedulingStore,
    private readonly db: DataSource,
    private readonly now: Date,
  ) {}

  async schedule(practitionerId: string, from: Date, to: Date): Promise<AppointmentRow[]> {
    await policy.viewer('Practitioner.schedule', this.access, { practitionerId });
    const range = parseRange(from, to);
    const rows = await this.loaders.schedule.load({ practitionerId, from: range.from.toISOString(), to: range.to.toISOString() });
    for (const row of rows) await policy.assert('Practitioner.schedule', this.access, { patientId: row.patientId, practitionerId: row.practitionerId });
    return rows;
  }

  async updateStatus(input: StatusInput): Promise<AppointmentRow> {
    await policy.viewer('Mutation.updateAppointmentStatus', this.access);
    const id = parseId(input.appointmentId, 'appointmentId');
    if (!STAFF_STATUSES.includes(input.status)) {
      throw badInput('status must be CHECKED_IN, FULFILLED or NO_SHOW; patients cancel and reschedule their own appointments.', 'status');
    }
    const row = await this.store.appointmentById(id);
    if (!row) throw notFound('Appointment');
    // Another practitioner's appointment looks like a missing one.
    await policy.assert('Mutation.updateAppointmentStatus', this.access, { patientId: row.patientId, practitionerId: row.practitionerId });
    if (row.status === input.status) return row;
    const why = statusChangeRefusedBecause(row.status, input.status, new Date(row.startAt), new Date(row.endAt), this.now);
    if (why) throw new PortalError(ErrorCode.CONFLICT, `This appointment cannot be marked ${input.status}: ${why}.`);
    // Conditional on the status just read: a patient's cancel racing this one wins or loses whole.
    // The audit events commit with it.
    const changed = await runChange(this.db, () => this.audit.transaction(this.db, (tx) => this.store.within(tx).setStatus(id, row.status, input.status)));
    if (!changed) {
      throw new PortalError(ErrorCode.CONFLICT, 'This appointment has just been changed. Reload it and try again.');
    }
    return { ...row, status: input.status };
  }
}
