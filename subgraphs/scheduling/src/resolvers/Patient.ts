import type { PageArgs } from '@portal/kit';
import type { SchedulingContext } from '../context';
import { toAppointment } from './mappers';

/** Patient is identity's entity; this subgraph adds the appointment lists, each checked per patient. */
export const Patient = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  async upcomingAppointments(patient: { id: string }, args: { first?: number | null }, ctx: SchedulingContext) {
    return (await ctx.appointments.upcomingOf(patient.id, args.first)).map(toAppointment);
  },
  appointments: (patient: { id: string }, args: PageArgs, ctx: SchedulingContext) => ctx.appointments.appointmentsOf(patient.id, args, toAppointment),
};
