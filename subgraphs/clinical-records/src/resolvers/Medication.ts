import { toHealthTopic } from './mappers';
import type { MedicationResolvers } from '../generated/graphql';

export const Medication: MedicationResolvers = {
  // Pharmacy owns medications; the library only adds what to read about one.
  __resolveReference: (ref) => ({ rxnormCode: ref.rxnormCode }),
  async education(medication, _, ctx) {
    return (await ctx.library.topicsFor('RXNORM', medication.rxnormCode)).map(toHealthTopic);
  },
};
