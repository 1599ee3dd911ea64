import type { PharmacyContext } from '../context';
import { toFill, toMedication, toPharmacyRequest, toPrescription, type PrescriptionModel } from './mappers';

export const Prescription = {
  async __resolveReference(ref: { id: string }, ctx: PharmacyContext) {
    return toPrescription(await ctx.prescriptions.byId(ref.id));
  },
  status: (rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) => ctx.prescriptions.status(rx),
  medication: async (rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) => toMedication(await ctx.prescriptions.medicationOf(rx)),
  refillable: (rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) => ctx.prescriptions.refillable(rx),
  renewable: (rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) => ctx.prescriptions.renewable(rx),
  prescriber: (rx: PrescriptionModel) => ({ id: rx.prescriberId }),
  async pendingRequest(rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) {
    const request = await ctx.prescriptions.pendingRequest(rx);
    return request && toPharmacyRequest(request);
  },
  async renewedFrom(rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) {
    const previous = await ctx.prescriptions.renewedFrom(rx);
    return previous && toPrescription(previous);
  },
  fills: async (rx: PrescriptionModel, _: unknown, ctx: PharmacyContext) => (await ctx.prescriptions.fills(rx)).map(toFill),
};
