import type { PharmacyContext } from '../context';
import { toMedication } from './mappers';

export const Medication = {
  async __resolveReference(ref: { rxnormCode: string }, ctx: PharmacyContext) {
    const medication = await ctx.prescriptions.medication(ref.rxnormCode);
    return medication && toMedication(medication);
  },
};
