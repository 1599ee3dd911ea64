import { toPrescription } from './mappers';
import type { PatientResolvers } from '../generated/graphql';

export const Patient: PatientResolvers = {
  // Identity owns the patient; each field below checks the viewer's access itself.
  __resolveReference: (ref) => ({ id: ref.id }),
  async prescriptions(patient, args, ctx) {
    return (await ctx.prescriptions.ofPatient(patient.id, args.status ?? null)).map(toPrescription);
  },
};
