import { notFound } from '@portal/kit';
import { isCancellable } from '../services/rules';
import { toAppointment, toClinic } from './mappers';
import type { AppointmentResolvers } from '../generated/graphql';

export const Appointment: AppointmentResolvers = {
  async __resolveReference(ref, ctx) {
    return toAppointment(await ctx.appointments.appointment(ref.id));
  },
  cancellable: (a, _, ctx) => isCancellable(a.status, a.start, ctx.now),
  async clinic(a, _, ctx) {
    const clinic = await ctx.loaders.clinic.load(a.clinicId);
    if (!clinic) throw notFound('Clinic');
    return toClinic(clinic);
  },
};
