import { toAppointment } from './mappers';
import type { MutationResolvers } from '../generated/graphql';

export const Mutation: MutationResolvers = {
  bookAppointment: async (_, { input }, ctx) => toAppointment(await ctx.booking.book(input)),
  cancelAppointment: async (_, { input }, ctx) => toAppointment(await ctx.booking.cancel(input)),
  rescheduleAppointment: async (_, { input }, ctx) =>
    toAppointment(await ctx.booking.reschedule(input)),
  updateAppointmentStatus: async (_, { input }, ctx) =>
    toAppointment(await ctx.practice.updateStatus(input)),
};
