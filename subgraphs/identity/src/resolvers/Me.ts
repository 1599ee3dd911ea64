import { notFound } from '@portal/kit';
import { toAccount, toPatient, toPractitioner, toProxyAccess, toProxyGrant } from './mappers';
import type { MeResolvers } from '../generated/graphql';

export const Me: MeResolvers = {
  async account({ viewer }, _, ctx) {
    const account = await ctx.loaders.account.load(viewer.accountId);
    if (!account) throw notFound('Your account');
    return toAccount(account);
  },
  // The idle deadline, unless the token's absolute end comes first.
  session: ({ viewer }) => ({
    method: viewer.method,
    expiresAt: viewer.sessionExpiresAt && viewer.sessionExpiresAt < viewer.expiresAt ? viewer.sessionExpiresAt : viewer.expiresAt,
  }),
  async patient({ viewer }, _, ctx) {
    // Null for anyone but a patient: decided in ../policy.ts (Me.patient).
    const person = await ctx.people.ownPatient(viewer);
    return person && toPatient(person);
  },
  async practitioner({ viewer }, _, ctx) {
    // Null for anyone but care staff: decided in ../policy.ts (Me.practitioner).
    const person = await ctx.people.ownPractitioner(viewer);
    return person && toPractitioner(person);
  },
  // Empty for anyone but a patient: decided in ../policy.ts (Me.proxyFor, Me.proxyGrants).
  proxyFor: async (_, __, ctx) => (await ctx.proxies.proxyFor()).map(toProxyAccess),
  proxyGrants: async (_, __, ctx) => (await ctx.proxies.grants()).map(toProxyGrant),
};
