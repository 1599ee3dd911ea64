import type { PharmacyContext } from '../context';
import type { RequestKind } from '../db/entities';
import { toPharmacyRequest } from './mappers';

export const Query = {
  pendingPharmacyRequests: async (_: unknown, args: { kind?: RequestKind | null; first?: number | null }, ctx: PharmacyContext) =>
    (await ctx.requests.pending(args.kind ?? null, args.first ?? undefined)).map(toPharmacyRequest),
  pharmacistLookup: (_: unknown, args: { patientId: string; reason: string }, ctx: PharmacyContext) => ctx.prescriptions.pharmacistLookup(args.patientId, args.reason),
};
