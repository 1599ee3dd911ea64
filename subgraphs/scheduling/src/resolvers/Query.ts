import { toClinic, toSlot } from './mappers';
import type { QueryResolvers } from '../generated/graphql';

export const Query: QueryResolvers = {
  clinics: async (_, __, ctx) => (await ctx.appointments.clinics()).map(toClinic),
  availableSlots: async (_, args, ctx) => (await ctx.slots.available(args)).map(toSlot),
};
