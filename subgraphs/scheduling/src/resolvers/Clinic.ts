import type { SchedulingContext } from '../context';
import { toClinic } from './mappers';

export const Clinic = {
  async __resolveReference(ref: { id: string }, ctx: SchedulingContext) {
    const clinic = await ctx.appointments.clinic(ref.id);
    return clinic && toClinic(clinic);
  },
};
