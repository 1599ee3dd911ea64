import type { SchedulingContext } from '../context';
import type { BookInput, CancelInput, RescheduleInput } from '../services/booking';
import type { StatusInput } from '../services/practice';
import { toAppointment } from './mappers';

export const Mutation = {
  bookAppointment: async (_: unknown, { input }: { input: BookInput }, ctx: SchedulingContext) => toAppointment(await ctx.booking.book(input)),
  cancelAppointment: async (_: unknown, { input }: { input: CancelInput }, ctx: SchedulingContext) => toAppointment(await ctx.booking.cancel(input)),
  rescheduleAppointment: async (_: unknown, { input }: { input: RescheduleInput }, ctx: SchedulingContext) =>
    toAppointment(await ctx.booking.reschedule(input)),
  updateAppointmentStatus: async (_: unknown, { input }: { input: StatusInput }, ctx: SchedulingContext) =>
    toAppointment(await ctx.practice.updateStatus(input)),
};
