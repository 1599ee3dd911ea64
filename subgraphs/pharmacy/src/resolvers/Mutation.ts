import { toPharmacyRequest } from './mappers';
import type { MutationResolvers } from '../generated/graphql';

export const Mutation: MutationResolvers = {
  requestRefill: async (_, { input }, ctx) =>
    toPharmacyRequest(await ctx.requests.requestRefill(input)),
  requestRenewal: async (_, { input }, ctx) =>
    toPharmacyRequest(await ctx.requests.requestRenewal(input)),
  decideRenewal: async (_, { input }, ctx) =>
    toPharmacyRequest((await ctx.requests.decideRenewal(input)).request),
  completeRefill: async (_, { input }, ctx) =>
    toPharmacyRequest(await ctx.requests.completeRefill(input)),
  denyRefill: async (_, { input }, ctx) =>
    toPharmacyRequest(await ctx.requests.denyRefill(input)),
};
