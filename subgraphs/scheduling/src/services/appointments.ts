import { notFound, parsePage, type Access, type Connection, type PageArgs, toConnection } from '@portal/kit';
import type { AppointmentRow, ClinicRow } from '../db/entities';
import type { SchedulingStore } from '../db/store';
import type { SchedulingLoaders } from '../loaders';
import { policy } from '../policy';

/**
 * Reads appointments and clinics. Clinics are not health data but are still
 * only for signed-in callers; who may see which appointment is decided by
 * `../policy.ts` (asked here, never by role), which audits every read.
 */
export class AppointmentService {
  constructor(
    private readonly access: Access,
    private readonly loaders: SchedulingLoaders,
    private readonly store: SchedulingStore,
  ) {}

  async clinics(): Promise<ClinicRow[]> {
    this.access.requireViewer();
    const clinics = await this.store.clinics();
    for (const c of clinics) this.loaders.clinic.prime(c.id, c);
    return clinics;
  }

  async clinic(id: string): Promise<ClinicRow | null> {
    this.access.requireViewer();
    return this.loaders.clinic.load(id);
  }

  /**
   * An appointment by id; another patient's looks exactly like a missing one.
   * Its own practitioner sees it whatever the care teams (it is on their schedule).
   */
  async appointment(id: string): Promise<AppointmentRow> {
    await policy.viewer('Appointment.__resolveReference', this.access);
    const row = await this.loaders.appointment.load(id);
    if (!row) throw notFound('Appointment');
    await policy.assert('Appointment.__resolveReference', this.access, { patientId: row.patientId, practitionerId: row.practitionerId });
    return row;
  }

  async upcomingOf(patientId: string, first: number | null | undefined): Promise<AppointmentRow[]> {
    await policy.assert('Patient.upcomingAppointments', this.access, patientId);
    const { limit } = parsePage({ first }, 5);
    return this.loaders.upcoming.load({ patientId, limit });
  }

  async appointmentsOf<T>(patientId: string, args: PageArgs, map: (row: AppointmentRow) => T): Promise<Connection<T>> {
    await policy.assert('Patient.appointments', this.access, patientId);
    const page = parsePage(args, 10);
    const rows = await this.loaders.appointmentPage.load({ patientId, limit: page.limit + 1, after: page.after });
    return toConnection(rows, page, () => this.loaders.appointmentCount.load(patientId), (r) => ({ sort: r.startAt, id: r.id }), map);
  }
}
