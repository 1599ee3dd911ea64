import type { SchedulingContext } from '../context';
import type { SlotSearch } from '../services/slots';
import { toClinic, toSlot } from './mappers';

export const Query = {
  clinics: async (_: unknown, __: unknown, ctx: SchedulingContext) => (await ctx.appointments.clinics()).map(toClinic),
  availableSlots: async (_: unknown, args: SlotSearch, ctx: SchedulingContext) => (await ctx.slots.available(args)).map(toSlot),
};
