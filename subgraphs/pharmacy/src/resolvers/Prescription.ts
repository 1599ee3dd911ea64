import { toFill, toMedication, toPharmacyRequest, toPrescription } from './mappers';
import type { PrescriptionResolvers } from '../generated/graphql';

export const Prescription: PrescriptionResolvers = {
  async __resolveReference(ref, ctx) {
    return toPrescription(await ctx.prescriptions.byId(ref.id));
  },
  status: (rx, _, ctx) => ctx.prescriptions.status(rx),
  medication: async (rx, _, ctx) => toMedication(await ctx.prescriptions.medicationOf(rx)),
  refillable: (rx, _, ctx) => ctx.prescriptions.refillable(rx),
  renewable: (rx, _, ctx) => ctx.prescriptions.renewable(rx),
  prescriber: (rx) => ({ id: rx.prescriberId }),
  async pendingRequest(rx, _, ctx) {
    const request = await ctx.prescriptions.pendingRequest(rx);
    return request && toPharmacyRequest(request);
  },
  async renewedFrom(rx, _, ctx) {
    const previous = await ctx.prescriptions.renewedFrom(rx);
    return previous && toPrescription(previous);
  },
  fills: async (rx, _, ctx) => (await ctx.prescriptions.fills(rx)).map(toFill),
};
