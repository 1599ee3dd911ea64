import { notFound } from '@portal/kit';
import { toClinic } from './mappers';
import type { SlotResolvers } from '../generated/graphql';

export const Slot: SlotResolvers = {
  async clinic(s, _, ctx) {
    const clinic = await ctx.loaders.clinic.load(s.clinicId);
    if (!clinic) throw notFound('Clinic');
    return toClinic(clinic);
  },
};
