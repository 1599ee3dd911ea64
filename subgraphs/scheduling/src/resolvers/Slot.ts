import { notFound } from '@portal/kit';
import type { SchedulingContext } from '../context';
import { toClinic, type SlotModel } from './mappers';

export const Slot = {
  async clinic(s: SlotModel, _: unknown, ctx: SchedulingContext) {
    const clinic = await ctx.loaders.clinic.load(s.clinicId);
    if (!clinic) throw notFound('Clinic');
    return toClinic(clinic);
  },
};
