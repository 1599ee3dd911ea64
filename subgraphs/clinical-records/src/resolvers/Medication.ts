import type { ClinicalContext } from '../context';
import { toHealthTopic } from './mappers';

type MedicationRef = { rxnormCode: string };

export const Medication = {
  // Pharmacy owns medications; the library only adds what to read about one.
  __resolveReference: (ref: MedicationRef) => ({ rxnormCode: ref.rxnormCode }),
  async education(medication: MedicationRef, _: unknown, ctx: ClinicalContext) {
    return (await ctx.library.topicsFor('RXNORM', medication.rxnormCode)).map(toHealthTopic);
  },
};
