import { toPharmacyRequest } from './mappers';
import type { QueryResolvers } from '../generated/graphql';

export const Query: QueryResolvers = {
  pendingPharmacyRequests: async (_, args, ctx) =>
    (await ctx.requests.pending(args.kind ?? null, args.first ?? undefined)).map(toPharmacyRequest),
  pharmacistLookup: (_, args, ctx) => ctx.prescriptions.pharmacistLookup(args.patientId, args.reason),
};
