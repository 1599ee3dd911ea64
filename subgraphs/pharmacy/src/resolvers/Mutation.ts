import type { PharmacyContext } from '../context';
import type { DecisionInput, RefillDenialInput } from '../services/inputs';
import type { RequestRefillInput, RequestRenewalInput } from '../services/requests';
import { toPharmacyRequest } from './mappers';

export const Mutation = {
  requestRefill: async (_: unknown, { input }: { input: RequestRefillInput }, ctx: PharmacyContext) =>
    toPharmacyRequest(await ctx.requests.requestRefill(input)),
  requestRenewal: async (_: unknown, { input }: { input: RequestRenewalInput }, ctx: PharmacyContext) =>
    toPharmacyRequest(await ctx.requests.requestRenewal(input)),
  decideRenewal: async (_: unknown, { input }: { input: DecisionInput }, ctx: PharmacyContext) =>
    toPharmacyRequest((await ctx.requests.decideRenewal(input)).request),
  completeRefill: async (_: unknown, { input }: { input: { requestId: string } }, ctx: PharmacyContext) =>
    toPharmacyRequest(await ctx.requests.completeRefill(input)),
  denyRefill: async (_: unknown, { input }: { input: RefillDenialInput }, ctx: PharmacyContext) =>
    toPharmacyRequest(await ctx.requests.denyRefill(input)),
};
