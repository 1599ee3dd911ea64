import type { PharmacyContext } from '../context';
import { toPharmacyRequest, toPrescription, type PharmacyRequestModel } from './mappers';

export const PharmacyRequest = {
  async __resolveReference(ref: { id: string }, ctx: PharmacyContext) {
    return toPharmacyRequest(await ctx.prescriptions.request(ref.id));
  },
  prescription: async (request: PharmacyRequestModel, _: unknown, ctx: PharmacyContext) =>
    toPrescription(await ctx.prescriptions.prescriptionOfRequest(request)),
  patient: (request: PharmacyRequestModel) => ({ id: request.patientId }),
  async newPrescription(request: PharmacyRequestModel, _: unknown, ctx: PharmacyContext) {
    const rx = await ctx.prescriptions.newPrescriptionOf(request);
    return rx && toPrescription(rx);
  },
};
