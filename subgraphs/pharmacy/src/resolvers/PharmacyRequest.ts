import { toPharmacyRequest, toPrescription } from './mappers';
import type { PharmacyRequestResolvers } from '../generated/graphql';

export const PharmacyRequest: PharmacyRequestResolvers = {
  async __resolveReference(ref, ctx) {
    return toPharmacyRequest(await ctx.prescriptions.request(ref.id));
  },
  prescription: async (request, _, ctx) =>
    toPrescription(await ctx.prescriptions.prescriptionOfRequest(request)),
  patient: (request) => ({ id: request.patientId }),
  async newPrescription(request, _, ctx) {
    const rx = await ctx.prescriptions.newPrescriptionOf(request);
    return rx && toPrescription(rx);
  },
};
