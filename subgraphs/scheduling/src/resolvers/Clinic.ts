import { toClinic } from './mappers';
import type { ClinicResolvers } from '../generated/graphql';

export const Clinic: ClinicResolvers = {
  async __resolveReference(ref, ctx) {
    const clinic = await ctx.appointments.clinic(ref.id);
    return clinic && toClinic(clinic);
  },
};
