import { toAppointment } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

/** Patient is identity's entity; this subgraph adds the appointment lists, each checked per patient. */
export const Patient: PatientResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  async upcomingAppointments(patient, args, ctx) {
    return (await ctx.appointments.upcomingOf(patient.id, args.first)).map(toAppointment);
  },
  appointments: (patient, args, ctx) => ctx.appointments.appointmentsOf(patient.id, args, toAppointment),
};
