import type { SchedulingContext } from '../context';
import { toClinic } from './mappers';

export const Query = {
  clinics: async (_: unknown, __: unknown, ctx: SchedulingContext) => (await ctx.appointments.clinics()).map(toClinic),
};
