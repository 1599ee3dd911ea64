import type { PharmacyContext } from '../context';
import type { PrescriptionFilter } from '../db/store';
import { toPrescription } from './mappers';

export const Patient = {
  // Identity owns the patient; each field below checks the viewer's access itself.
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  async prescriptions(patient: { id: string }, args: { status?: PrescriptionFilter }, ctx: PharmacyContext) {
    return (await ctx.prescriptions.ofPatient(patient.id, args.status ?? null)).map(toPrescription);
  },
};
