import { notFound } from '@portal/kit';
import type { SchedulingContext } from '../context';
import { isCancellable } from '../services/rules';
import { toAppointment, toClinic, type AppointmentModel } from './mappers';

export const Appointment = {
  async __resolveReference(ref: { id: string }, ctx: SchedulingContext) {
    return toAppointment(await ctx.appointments.appointment(ref.id));
  },
  cancellable: (a: AppointmentModel, _: unknown, ctx: SchedulingContext) => isCancellable(a.status, a.start, ctx.now),
  async clinic(a: AppointmentModel, _: unknown, ctx: SchedulingContext) {
    const clinic = await ctx.loaders.clinic.load(a.clinicId);
    if (!clinic) throw notFound('Clinic');
    return toClinic(clinic);
  },
};
