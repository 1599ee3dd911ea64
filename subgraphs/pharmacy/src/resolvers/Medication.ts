import { toMedication } from './mappers';
import type { MedicationResolvers } from '../generated/graphql';

export const Medication: MedicationResolvers = {
  async __resolveReference(ref, ctx) {
    const medication = await ctx.prescriptions.medication(ref.rxnormCode);
    return medication && toMedication(medication);
  },
};
